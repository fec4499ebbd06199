-- wrk's side of http-bench.mjs: POST a JSON body whose targeting key and attributes vary per
-- request (as load.mjs does for autocannon) and print the result as one JSON line.
local n = 0
local plans = { "free", "pro", "enterprise" }
local countries = { "NL", "DE", "US", "FR", "JP" }
local flagKey = os.getenv("BENCH_FLAG_KEY") or "checkout"
local apiKey = os.getenv("BENCH_API_KEY") or ""

wrk.method = "POST"
wrk.headers["content-type"] = "application/json"
if apiKey ~= "" then wrk.headers["x-api-key"] = apiKey end

request = function()
  n = n + 1
  local domain = (n % 4 == 0) and "example.com" or "mail.test"
  local body = string.format(
    '{"flagKey":"%s","context":{"targetingKey":"user-%d","plan":"%s","country":"%s","email":"u%d@%s"}}',
    flagKey, n, plans[n % 3 + 1], countries[n % 5 + 1], n, domain)
  return wrk.format(nil, nil, nil, body)
end

done = function(summary, latency)
  local e = summary.errors
  io.write(string.format(
    '{"requestsPerSecond":%.1f,"total":%d,"p50":%.2f,"p99":%.2f,"max":%.2f,"non2xx":%d,"errors":%d}\n',
    summary.requests / (summary.duration / 1e6), summary.requests,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    e.status, e.connect + e.read + e.write + e.timeout))
end
