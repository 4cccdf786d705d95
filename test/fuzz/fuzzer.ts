import http from 'node:http'
import {SqliteStore} from '../../src/store/sqlite-store.js'
import {describeRequest, send} from './client.js'
import {generateCase, strategyNames, type FuzzCase, type FuzzSource} from './mutator.js'
import {compareStored, judge, outcomeClass, storedInvariants, type Acked, type Outcome, type OutcomeClass} from './oracle.js'

export interface FuzzOptions {
  /** The daemon, e.g. http://127.0.0.1:PORT. */
  url: string
  /** Its SQLite file, read through a read-only connection as `cdp events` does. */
  database: string
  sources: readonly FuzzSource[]
  seed: number
  requests: number
  /** Keep-alive connections with a request in flight at once. */
  connections: number
  /** Case indexes start here (to reproduce one request: first = its index, requests = 1). */
  first?: number
  /** A request without an answer by then is a hang. */
  timeoutMs?: number
  /** Stored rows are compared with acknowledged messages after every this many answers. */
  verifyEvery?: number
  /** Says why the daemon is gone (exit code, signal), or undefined while it runs. */
  daemonGone?: () => string | undefined
  onProgress?: (report: FuzzReport) => void
  progressEvery?: number
}

export interface Failure {
  seed: number
  index: number
  kind: string
  detail?: string
  problem: string
  request: string
  answer: string
}

export interface FuzzReport {
  seed: number
  first: number
  requests: number
  /** Requests answered or failed so far. */
  done: number
  ms: number
  byOutcome: Record<OutcomeClass, number>
  /** "400 invalid_json", "200", … */
  byAnswer: Record<string, number>
  /** Per kind of request, its outcomes. */
  byKind: Record<string, Partial<Record<OutcomeClass, number>>>
  acknowledged: number
  /** Acknowledged messages found stored and compared. */
  verified: number
  /** Stored rows checked against the invariants. */
  storedRows: number
  failures: Failure[]
  /** Failures grouped by class and kind of request, with the first example of each. */
  failureClasses: Record<string, {count: number; first: Failure}>
  /** Set when the daemon died or stopped answering /health. */
  daemonProblem?: string
}

/** The request index inside a messageId the generator made ("fz<seed>-<index>-<n>", base 36). */
function indexInId(messageId: string): number | undefined {
  const match = /^\s*fz[0-9a-z]+-([0-9a-z]+)-/.exec(messageId)
  return match ? parseInt(match[1], 36) : undefined
}

function describeAnswer(outcome: Outcome): string {
  if (outcome.timedOut) return `no answer within ${outcome.ms} ms`
  if (outcome.status === undefined) return `${outcome.error?.code}: ${outcome.error?.message} after ${outcome.ms} ms${outcome.reusedSocket ? ' (reused socket)' : ''}`
  const body = outcome.body?.toString('utf8') ?? ''
  return `${outcome.status} ${body.length > 400 ? body.slice(0, 400) + '…' : body}`
}

function answerKey(outcome: Outcome): string {
  if (outcome.status === undefined) return outcomeClass(outcome)
  if (outcome.status < 400) return String(outcome.status)
  try {
    const body = JSON.parse(outcome.body?.toString('utf8') ?? '')
    return `${outcome.status} ${typeof body?.code === 'string' ? body.code : '?'}`
  } catch {
    return `${outcome.status} (not JSON)`
  }
}

/** The first failure of each class, then the rest counted: a long run can fail the same way thousands of times. */
const failuresKept = 2000

/**
 * Runs `requests` generated cases against a daemon over `connections` keep-alive connections and
 * checks every answer (oracle.ts) and every stored row: each acknowledged message is stored as
 * sent, nothing refused is stored, every stored message keeps the invariants, /health answers at
 * the end and the daemon is alive.
 */
export async function runFuzz(options: FuzzOptions): Promise<FuzzReport> {
  const first = options.first ?? 0
  const timeoutMs = options.timeoutMs ?? 15_000
  const verifyEvery = options.verifyEvery ?? 250
  const base = new URL(options.url)
  const started = Date.now()
  const report: FuzzReport = {
    seed: options.seed,
    first,
    requests: options.requests,
    done: 0,
    ms: 0,
    byOutcome: {'2xx': 0, '4xx': 0, '5xx': 0, 'no-answer': 0, hang: 0},
    byAnswer: {},
    byKind: {},
    acknowledged: 0,
    verified: 0,
    storedRows: 0,
    failures: [],
    failureClasses: {},
  }
  const cases = new Map<number, FuzzCase>()
  /** Failures that no one request explains (counts of rows). */
  const failUnknown = (problem: string, answer: string) => {
    const classKey = `${problem.split(':')[0]} — unknown request`
    const entry = report.failureClasses[classKey]
    if (entry) entry.count++
    else report.failureClasses[classKey] = {count: 1, first: {seed: options.seed, index: -1, kind: '?', problem, request: '(no single request)', answer}}
  }
  const fail = (c: FuzzCase, problem: string, answer: string) => {
    const failure: Failure = {seed: c.seed, index: c.index, kind: c.kind, detail: c.detail, problem, request: describeRequest(c), answer}
    const classKey = `${problem.split(':')[0]} — ${c.kind}`
    const entry = report.failureClasses[classKey]
    if (entry) entry.count++
    else report.failureClasses[classKey] = {count: 1, first: failure}
    if (report.failures.length < failuresKept) report.failures.push(failure)
  }

  // The oracle's memory of the run: acknowledged messages not yet found, rows not yet claimed.
  const pending = new Map<string, Acked[]>()
  const unclaimed = new Map<string, {source: string; message: Record<string, unknown>}>()
  const refused = new Map<string, number>()
  const maybe = new Set<string>()
  const ackedIds = new Set<string>()
  /** The request of each acknowledged messageId, to name it when its stored row breaks an invariant later. */
  const sentBy = new Map<string, number>()
  /** Marker strings hidden in acknowledged messages (under prototype keys), by request. */
  const markers = new Map<string, number>()
  let generatedAcks = 0
  let maybeUnnamed = 0
  let unverifiableAcks = 0
  let unknownRows = 0
  let lastSeq = 0
  const caseOf = (index: number) => cases.get(index) ?? generateCase(options.seed, index, options.sources)

  const compare = (acked: Acked, row: {source: string; message: Record<string, unknown>}) => {
    report.verified++
    for (const problem of compareStored(acked, row, {start: started, end: Date.now()})) {
      fail(caseOf(acked.caseIndex), problem, `stored: ${JSON.stringify(row.message).slice(0, 600)}`)
    }
  }

  const store = new SqliteStore(options.database, {readonly: true})
  const verify = () => {
    for (const row of store.eventsAfter(lastSeq, {limit: Number.MAX_SAFE_INTEGER})) {
      lastSeq = row.seq
      report.storedRows++
      const message = row.message as unknown as Record<string, unknown>
      for (const problem of storedInvariants(message)) {
        const owner = typeof message.messageId === 'string' ? (pending.get(message.messageId)?.[0]?.caseIndex ?? sentBy.get(message.messageId) ?? indexInId(message.messageId)) : undefined
        if (owner !== undefined) fail(caseOf(owner), problem, `stored: ${JSON.stringify(message).slice(0, 600)}`)
        else failUnknown(problem, `stored: ${JSON.stringify(message).slice(0, 600)}`)
      }
      const id = String(message.messageId)
      const waiting = pending.get(id)
      if (waiting) {
        for (const acked of waiting) compare(acked, {source: row.source, message})
        pending.delete(id)
      } else {
        unclaimed.set(id, {source: row.source, message})
      }
    }
    // Every message acknowledged before this read must have been in it.
    for (const [id, list] of pending) {
      for (const acked of list) fail(caseOf(acked.caseIndex), `acknowledged but not stored: messageId ${JSON.stringify(id)}`, 'no stored row has this messageId')
    }
    pending.clear()
    // The indexed columns say what the stored message says: a value hidden under a prototype key
    // must not reach the user or event column (cdp events --user would find a message without it).
    for (const [marker, caseIndex] of markers) {
      for (const row of store.queryEvents({user: marker, limit: 10})) {
        const message = row.message as unknown as Record<string, unknown>
        if (message.userId !== marker && message.anonymousId !== marker) {
          fail(caseOf(caseIndex), `indexed column differs: the user column says ${JSON.stringify(marker)}, the stored message has userId ${JSON.stringify(message.userId)}`, `stored: ${JSON.stringify(message).slice(0, 600)}`)
        }
      }
      for (const row of store.queryEvents({event: marker, limit: 10})) {
        const message = row.message as unknown as Record<string, unknown>
        if (message.event !== marker && message.name !== marker) {
          fail(caseOf(caseIndex), `indexed column differs: the event column says ${JSON.stringify(marker)}, the stored message has event ${JSON.stringify(message.event)}`, `stored: ${JSON.stringify(message).slice(0, 600)}`)
        }
      }
    }
    markers.clear()
  }

  const record = (c: FuzzCase, outcome: Outcome) => {
    const outcomeKind = outcomeClass(outcome)
    report.byOutcome[outcomeKind]++
    const key = answerKey(outcome)
    report.byAnswer[key] = (report.byAnswer[key] ?? 0) + 1
    const kindStats = (report.byKind[c.kind] ??= {})
    kindStats[outcomeKind] = (kindStats[outcomeKind] ?? 0) + 1
    const judgement = judge(c, outcome)
    for (const problem of judgement.problems) fail(c, problem, describeAnswer(outcome))
    for (const id of judgement.refused) refused.set(id, c.index)
    for (const id of judgement.maybe) maybe.add(id)
    maybeUnnamed += judgement.maybeUnnamed
    if (judgement.unverifiableAck) unverifiableAcks++
    const claimed: string[] = []
    for (const acked of judgement.acked) {
      report.acknowledged++
      for (const marker of JSON.stringify(acked.item).match(/victim-fz[0-9a-z-]+/g) ?? []) markers.set(marker, c.index)
      if (acked.messageId === undefined) {
        generatedAcks++
        continue
      }
      ackedIds.add(acked.messageId)
      sentBy.set(acked.messageId, c.index)
      // Its row may have been read already, while the answer was on its way.
      const row = unclaimed.get(acked.messageId)
      if (row) {
        compare(acked, row)
        claimed.push(acked.messageId)
        continue
      }
      const list = pending.get(acked.messageId)
      if (list) list.push(acked)
      else pending.set(acked.messageId, [acked])
    }
    // After the loop: an item sent twice in one batch is compared twice with its one row.
    for (const id of claimed) unclaimed.delete(id)
  }

  const agent = new http.Agent({keepAlive: true, maxSockets: options.connections, maxFreeSockets: options.connections})
  let next = first
  const end = first + options.requests
  let sinceVerify = 0
  let stop = false
  const worker = async () => {
    while (!stop && next < end) {
      const index = next++
      const c = generateCase(options.seed, index, options.sources)
      cases.set(index, c)
      const outcome = await send(agent, base, c, timeoutMs)
      record(c, outcome)
      cases.delete(index)
      report.done++
      if (++sinceVerify >= verifyEvery) {
        sinceVerify = 0
        verify()
      }
      if (options.onProgress && report.done % (options.progressEvery ?? 1000) === 0) options.onProgress({...report, ms: Date.now() - started})
      if (outcome.status === undefined) {
        const gone = options.daemonGone?.()
        if (gone) {
          report.daemonProblem = `the daemon died during request ${index} (${c.kind}): ${gone}`
          stop = true
        }
      }
    }
  }
  try {
    await Promise.all(Array.from({length: options.connections}, worker))
    verify()
    // Rows nobody acknowledged: a refused message must not be stored; made-up ids must match the acknowledgements that had none.
    for (const [id] of unclaimed) {
      if (ackedIds.has(id) || maybe.has(id)) continue
      const refusedBy = refused.get(id)
      if (refusedBy !== undefined) fail(caseOf(refusedBy), `stored though refused: messageId ${JSON.stringify(id)}`, 'the answer refused it, but a stored row has it')
      else unknownRows++
    }
    // Messages sent without a messageId get one from the daemon: count them instead.
    if (unknownRows < generatedAcks) {
      failUnknown(`acknowledged but not stored: ${generatedAcks} messages without a messageId were acknowledged, ${unknownRows} rows have a daemon-made id`, '')
    } else if (unverifiableAcks === 0 && unknownRows > generatedAcks + maybeUnnamed) {
      failUnknown(`stored though never acknowledged: ${unknownRows} rows have ids the fuzzer did not send; ${generatedAcks} messages without an id were acknowledged and ${maybeUnnamed} had no answer`, '')
    }
    report.daemonProblem ??= options.daemonGone?.() ?? (await healthProblem(base, timeoutMs))
  } finally {
    agent.destroy()
    store.close()
  }
  report.ms = Date.now() - started
  return report
}

async function healthProblem(base: URL, timeoutMs: number): Promise<string | undefined> {
  try {
    const response = await fetch(new URL('/health', base), {signal: AbortSignal.timeout(timeoutMs)})
    return response.status === 200 ? undefined : `/health answered ${response.status} after the run`
  } catch (error) {
    return `/health did not answer after the run: ${(error as Error).message}`
  }
}

/** Strategies a run never tried: a short run must cover them all. */
export function untried(report: FuzzReport): string[] {
  const kinds = Object.keys(report.byKind)
  const groups: Record<string, string[]> = {
    valid: ['valid.'],
    'item-mutation': ['item.'],
    'batch-mixed': ['batch.mixed'],
    'batch-level': ['batch.deep', 'batch.proto', 'batch.not-object', 'batch.sent-at', 'batch.batch-type'],
    'batch-edge-size': ['batch.size-'],
    'byte-limits': ['limit.'],
    'bad-bytes': ['body.'],
    encoding: ['encoding.'],
    auth: ['auth.'],
    http: ['http.'],
    query: ['query.'],
  }
  return strategyNames.filter((name) => !(groups[name] ?? [name]).some((prefix) => kinds.some((kind) => kind.startsWith(prefix))))
}

/** The report as text: outcomes, answers, failure classes with a reproducible example each. */
export function formatReport(report: FuzzReport): string {
  const lines: string[] = []
  const rate = report.ms > 0 ? Math.round((report.done / report.ms) * 1000) : 0
  lines.push(`fuzz seed ${report.seed}: ${report.done} requests (from index ${report.first}) in ${(report.ms / 1000).toFixed(1)} s (${rate}/s)`)
  lines.push(`outcomes: ${Object.entries(report.byOutcome).map(([k, v]) => `${k} ${v}`).join(', ')}`)
  lines.push(`acknowledged messages: ${report.acknowledged}; verified against the store: ${report.verified}; stored rows checked: ${report.storedRows}`)
  lines.push('answers:')
  for (const [key, count] of Object.entries(report.byAnswer).sort((a, b) => b[1] - a[1])) lines.push(`  ${String(count).padStart(7)}  ${key}`)
  lines.push('requests by kind (2xx/4xx/other):')
  for (const [kind, stats] of Object.entries(report.byKind).sort()) {
    const other = (stats['5xx'] ?? 0) + (stats['no-answer'] ?? 0) + (stats.hang ?? 0)
    lines.push(`  ${kind.padEnd(32)} ${stats['2xx'] ?? 0}/${stats['4xx'] ?? 0}/${other}`)
  }
  if (report.daemonProblem) lines.push(`DAEMON: ${report.daemonProblem}`)
  const classes = Object.entries(report.failureClasses).sort((a, b) => b[1].count - a[1].count)
  lines.push(classes.length === 0 ? 'failures: none' : `failures: ${classes.reduce((n, [, c]) => n + c.count, 0)} in ${classes.length} classes`)
  for (const [name, {count, first}] of classes) {
    lines.push(`- ${name}: ${count}×; first at seed ${first.seed} index ${first.index}${first.detail ? ` (${first.detail})` : ''}`)
    lines.push(`    problem: ${first.problem}`)
    lines.push(`    request: ${first.request}`)
    lines.push(`    answer: ${first.answer}`)
  }
  return lines.join('\n')
}
