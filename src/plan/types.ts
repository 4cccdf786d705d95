/** A JSON Schema as it sits in a plan file (draft-07). */
export type JsonSchema = Record<string, unknown>

/** One event's rule: plan/events/<name>.json. */
export interface EventRule {
  name: string
  description?: string
  /** Protocols' event version: a message picks one with context.protocols.event_version. */
  version: number
  properties: JsonSchema
  context?: JsonSchema
  traits?: JsonSchema
  /** Shared definitions local to the file, reachable as "#/definitions/…". */
  definitions?: Record<string, JsonSchema>
  /** The file, relative to the plan folder. */
  file: string
}

/** Identify or group traits: plan/identify.json, plan/group.json. */
export interface TraitsRule {
  description?: string
  traits: JsonSchema
  context?: JsonSchema
  definitions?: Record<string, JsonSchema>
  file: string
}

/** Rules for page calls, screen calls, or every call (common): plan/page.json, screen.json, common.json. */
export interface MessageRule {
  /** The rule's key in Segment (a page or screen name), kept for export. */
  name?: string
  description?: string
  version: number
  properties?: JsonSchema
  context?: JsonSchema
  traits?: JsonSchema
  definitions?: Record<string, JsonSchema>
  file: string
}

export const messageRuleFiles = {page: 'page.json', screen: 'screen.json', common: 'common.json'} as const
export type MessageRuleKind = keyof typeof messageRuleFiles

export interface TrackingPlan {
  dir: string
  /** By event name, then by version. */
  events: Map<string, Map<number, EventRule>>
  identify?: TraitsRule
  group?: TraitsRule
  /** page.json, screen.json and common.json (common applies to every message). */
  rules: Partial<Record<MessageRuleKind, MessageRule>>
  /** plan/definitions.json, reachable from any file by a relative $ref. */
  definitions?: {file: string; document: JsonSchema}
  /** Where each $ref leads, worked out once when the plan is loaded (resolve.ts). */
  refs: PlanRefs
}

/** Where a $ref leads: the file, the JSON pointer in it (RFC 6901, escaped), and the schema there. */
export interface ResolvedRef {
  file: string
  pointer: string
  schema: JsonSchema | boolean
}

/** The plan's $refs, resolved: by the schema object that holds the $ref, as loaded. */
export interface PlanRefs {
  /** Where the $ref of this schema leads; undefined when it has none or it leads nowhere (a load problem). */
  target(schema: JsonSchema): ResolvedRef | undefined
  /** The files with a $ref that leads nowhere, each reported as a load problem. */
  unresolvedIn: ReadonlySet<string>
}

export type Severity = 'error' | 'warning'

/** A problem with the plan itself, with the file it is in. */
export interface PlanProblem {
  severity: Severity
  file: string
  /** Where in the file (JSON pointer), when known. */
  pointer?: string
  message: string
}
