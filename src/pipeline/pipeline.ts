import type {CompiledPlan} from '../plan/compile.js'
import type {PlanRegistry} from '../plan/registry.js'
import type {AcceptedMessage} from '../spec/request.js'
import type {AppendResult, EventWriter, NewEvent} from '../store/types.js'

/** The row a normalised message is stored as: the message once serialised, its indexed fields. */
export function toNewEvent(source: string, accepted: AcceptedMessage, plan?: CompiledPlan): NewEvent {
  const message = accepted.message
  const violations = plan ? plan.check(message) : []
  return {
    messageId: message.messageId,
    source,
    type: message.type,
    event: message.type === 'track' ? (message.event as string) : (message.name ?? null),
    userId: message.userId ?? null,
    anonymousId: message.anonymousId ?? null,
    timestamp: message.timestamp,
    receivedAt: message.receivedAt,
    raw: accepted.raw,
    message: JSON.stringify(message),
    valid: plan ? violations.length === 0 : null,
    violations,
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
  ) {}

  ingest(source: string, messages: readonly AcceptedMessage[]): Promise<AppendResult> {
    const plan = this.plans?.forSource(source)
    const rows = new Array<NewEvent>(messages.length)
    for (let i = 0; i < messages.length; i++) rows[i] = toNewEvent(source, messages[i], plan)
    return this.writer.submit(rows)
  }
}
