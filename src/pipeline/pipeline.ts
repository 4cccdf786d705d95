import type {ProtocolsSettings} from '../config/schema.js'
import {BugError} from '../errors.js'
import type {PlanRegistry} from '../plan/registry.js'
import type {Violation} from '../plan/violations.js'
import {ownValue} from '../message/own-keys.js'
import type {AcceptedMessage} from '../message/request.js'
import type {SegmentMessage} from '../message/types.js'
import type {AppendResult, EventWriter, NewEvent} from '../store/types.js'
import type {FunctionFailure, FunctionRunSink} from '../functions/types.js'
import {hasSteps, noFunctions, runSteps, type FunctionLookup, type StepsConfig} from '../functions/steps.js'
import {applyPolicy, violationEvents, type PolicyOutcome} from './policy.js'

/** Plan outcome of one message: null when no plan applies. */
interface Checked {
  violations: Violation[] | null
  policy: PolicyOutcome
}

const unchecked: Checked = {violations: null, policy: null}


/** A field's own string value, or null: an indexed column never holds what the stored JSON lacks, nor a non-string. */
function column(message: SegmentMessage, field: string): string | null {
  const value = ownValue(message, field)
  return typeof value === 'string' ? value : null
}

/** A field every normalised message has as an own string; anything else is a bug upstream, refused before SQLite sees it. */
function required(message: SegmentMessage, field: string): string {
  const value = column(message, field)
  if (value === null) throw new BugError(`a normalised message has no ${field} string (messageId ${JSON.stringify(ownValue(message, 'messageId'))})`)
  return value
}

/**
 * The row a normalised message is stored as: the message once serialised, and its indexed
 * fields read from that same message's own properties, so the user_id column and the stored
 * userId always agree. `raw` only where the message no longer holds all that was received.
 */
export function toNewEvent(source: string, message: SegmentMessage, raw: string | null, checked: Checked = unchecked): NewEvent {
  const type = required(message, 'type') as SegmentMessage['type']
  return {
    messageId: required(message, 'messageId'),
    source,
    type,
    event: column(message, type === 'track' ? 'event' : 'name'),
    userId: column(message, 'userId'),
    anonymousId: column(message, 'anonymousId'),
    timestamp: required(message, 'timestamp'),
    receivedAt: required(message, 'receivedAt'),
    raw,
    message: JSON.stringify(message),
    valid: checked.violations === null ? null : checked.violations.length === 0,
    violations: checked.violations ?? [],
    policy: checked.policy,
  }
}

export interface SourceSettings extends StepsConfig {
  protocols?: ProtocolsSettings
}

/** A message on its way to the store; `changed` once a source's steps rewrote what was received. */
interface Checkable extends AcceptedMessage {
  changed?: true
}

/**
 * An insert function on a source failed in a way trying again may cure (RetryError, a time-out, a
 * function that has not loaded): nothing of the request is stored, and the server answers 503 so
 * that the SDK sends it again.
 */
export class SourceStepsFailed extends Error {
  constructor(
    readonly source: string,
    readonly failure: FunctionFailure,
  ) {
    super(`the insert function of source "${source}" failed (${failure.errorClass}: ${failure.message}); nothing in this request was stored, so send it again`)
    this.name = 'SourceStepsFailed'
  }
}

/**
 * The one message path: every event, from the HTTP API or a replay, goes through here on its way
 * to the store. Later steps (plan validation, functions, outbox) join here, not elsewhere.
 */
export class Pipeline {
  constructor(
    private readonly writer: EventWriter,
    private readonly plans?: PlanRegistry,
    /** Each source's settings by name; read on every ingest, so a config reload applies at once. */
    private readonly settings: (source: string) => SourceSettings | undefined = () => undefined,
    /** Loaded functions, and where their records go: a source's insert function runs here. */
    private readonly functions?: {lookup: FunctionLookup; sink: FunctionRunSink},
  ) {}

  ingest(source: string, messages: readonly AcceptedMessage[]): Promise<AppendResult> {
    const settings = this.settings(source)
    if (hasSteps(settings) && messages.length > 0) return this.withSteps(source, settings as StepsConfig, messages).then((kept) => this.check(source, kept))
    return this.check(source, messages)
  }

  /**
   * A source's transformations and insert function, before the plan and the store (as Segment's
   * source insert functions): each message goes on changed, as several, or not at all; its raw
   * payload stays as received. A failure worth retrying refuses the whole request; any other
   * failure drops that message alone (recorded with the function's records).
   */
  private async withSteps(source: string, config: StepsConfig, messages: readonly AcceptedMessage[]): Promise<Checkable[]> {
    const functions = this.functions ?? noFunctions
    const results = await runSteps(
      messages.map((accepted) => ({messageId: accepted.message.messageId, message: accepted.message})),
      config,
      {stage: 'source', target: source},
      functions,
    )
    const retry = results.find((result) => result.failure?.retryable)?.failure
    if (retry) throw new SourceStepsFailed(source, retry)
    const kept: Checkable[] = []
    results.forEach((result, index) => {
      if (result.unchanged) kept.push(messages[index])
      else for (const message of result.messages) kept.push({index: messages[index].index, message, raw: messages[index].raw, changed: true})
    })
    return kept
  }

  /** Checks each message against the source's plan and stores it; what was received is stored only where the message no longer holds it. */
  private check(source: string, messages: readonly Checkable[]): Promise<AppendResult> {
    if (messages.length === 0) return Promise.resolve({inserted: 0, duplicates: 0, stored: []})
    const plan = this.plans?.forSource(source)
    if (!plan) {
      const rows = new Array<NewEvent>(messages.length)
      for (let i = 0; i < messages.length; i++) rows[i] = toNewEvent(source, messages[i].message, messages[i].changed ? messages[i].raw : null)
      return this.writer.submit(rows)
    }
    const protocols = this.settings(source)?.protocols
    const rows: NewEvent[] = []
    // Violation Generated events follow their message's rows, so the caller's count stays first.
    const generated: NewEvent[] = []
    for (const {message, raw, changed} of messages) {
      const violations = plan.check(message)
      const {outcome, message: forwarded} = applyPolicy(message, violations, protocols)
      rows.push(toNewEvent(source, forwarded, changed || outcome === 'omitted' ? raw : null, {violations, policy: outcome}))
      if (protocols?.emitViolations && violations.length > 0) {
        for (const event of violationEvents(message, violations)) generated.push(toNewEvent(source, event, null))
      }
    }
    if (generated.length === 0) return this.writer.submit(rows)
    return this.writer.submit([...rows, ...generated]).then((result) => {
      const stored = result.stored.slice(0, rows.length)
      const inserted = stored.filter(Boolean).length
      return {inserted, duplicates: stored.length - inserted, stored}
    })
  }
}
