import type { ConditionConfig, JsonValue, PrerequisiteConfig, ServeConfig, TargetConfig } from '@switchyard/engine';

/** The document's format name and version; an import refuses any other. */
export const exportFormat = 'switchyard.export';
export const exportVersion = 1;

/**
 * An export of an organisation (or of one of its projects): everything evaluation depends on and
 * its history, keyed by the human handles (project, environment, flag, segment and variation keys)
 * so that it applies to another organisation or instance, whose ids differ. Plain JSON.
 */
export interface ExportDocument {
  format: typeof exportFormat;
  version: typeof exportVersion;
  exportedAt: string;
  /** Where it came from (informational; an import never uses these ids). */
  source: { organizationId: number; organizationName: string; projectKey: string | null };
  /** The organisation's default environment list (IntelliToggle's tenant environments), in order. */
  environments: ExportedEnvironmentTemplate[];
  projects: ExportedProject[];
  /** Audit events of what is exported, oldest first. */
  auditLog: ExportedAuditEvent[];
}

export interface ExportedEnvironmentTemplate {
  key: string;
  name: string;
}

export interface ExportedProject {
  key: string;
  name: string;
  description: string | null;
  color: string | null;
  isDefault: boolean;
  /** In position order. */
  environments: ExportedEnvironment[];
  /** By key. */
  segments: ExportedSegment[];
  /** By key; archived ones too. */
  flags: ExportedFlag[];
}

export interface ExportedEnvironment {
  key: string;
  name: string;
  color: string | null;
}

export interface ExportedSegment {
  key: string;
  name: string;
  description: string | null;
  conditions: ConditionConfig[];
  included: string[];
  excluded: string[];
}

export interface ExportedVariation {
  key: string;
  name: string;
  value: JsonValue;
  description: string | null;
  weight: number | null;
}

export interface ExportedFlag {
  key: string;
  name: string;
  description: string | null;
  type: string;
  defaultVariation: string;
  tags: string[];
  status: string;
  metadata: Record<string, string | number | boolean> | null;
  /** In position order. */
  variations: ExportedVariation[];
  /**
   * Per environment key, for environments where the flag is configured; an environment of the
   * project missing here serves the flag disabled with nothing configured.
   */
  environments: Record<string, ExportedFlagEnvironment>;
}

export interface ExportedFlagEnvironment {
  enabled: boolean;
  offVariation: string | null;
  defaultServe: ServeConfig | null;
  targets: TargetConfig[];
  prerequisites: PrerequisiteConfig[];
  /** flagd JSONLogic used instead of rules, or null. */
  targeting: JsonValue | null;
  /** Imported from flagd: disabled serves nothing unless `offVariation` is set. Absent means false. */
  flagd?: boolean;
  /** This environment's default variation (flagd `defaultVariant`); null or absent: the flag's. */
  defaultVariation?: string | null;
  /** In priority order. */
  rules: ExportedRule[];
}

export interface ExportedRule {
  description: string | null;
  conditions: ConditionConfig[];
  segments: string[];
  serve: ServeConfig;
}

export interface ExportedAuditEvent {
  createdAt: string;
  /** The project's key, for project events; null for organisation events. */
  projectKey: string | null;
  actorType: string;
  actorId: number | null;
  action: string;
  resourceType: string;
  resourceId: string | null;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
}
