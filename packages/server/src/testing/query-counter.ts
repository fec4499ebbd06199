import type { KyselyPlugin, PluginTransformQueryArgs, PluginTransformResultArgs, QueryResult, RootOperationNode, UnknownRow } from 'kysely';

/**
 * A Kysely plugin that counts every query sent through the instance it is installed on (and its
 * transactions), with the kind of each, so a test can assert a code path issues none.
 */
export class QueryCounter implements KyselyPlugin {
  /** Kinds of the queries seen so far (`SelectQueryNode`, `InsertQueryNode`, `RawNode`, …). */
  readonly seen: string[] = [];

  get count(): number {
    return this.seen.length;
  }

  reset(): void {
    this.seen.length = 0;
  }

  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    this.seen.push(args.node.kind);
    return args.node;
  }

  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    return args.result;
  }
}
