import {readDaemonInfo} from '../config/daemon-info.js'
import {loadConfig} from '../config/load.js'
import {workspacePaths} from '../config/workspace.js'
import {checkDestinationName, deliveryReport, type DeliveriesReport} from '../delivery/report.js'
import {UserError} from '../errors.js'
import {parseDeliveriesQuery, type DeliveriesQueryInput} from '../query/filter-input.js'
import {openStorage} from '../store/open-storage.js'
import {tokenHeaders} from '../stream/client.js'
import {withReader} from './events.js'

/** `cdp deliveries`: reads the workspace's store beside a running daemon. */
export async function listDeliveries(dir: string, input: DeliveriesQueryInput): Promise<DeliveriesReport> {
  const query = parseDeliveriesQuery(input)
  const destinations = loadConfig(dir)?.config.destinations ?? []
  return withReader(dir, ({deliveries, functionRuns}) => deliveryReport(deliveries, destinations, query, functionRuns))
}

export interface RetryRequest {
  destination?: string
  ids?: number[]
}

export interface RetryResult {
  retried: number
  /** Whether the running daemon took the request (else the store was updated for its next start). */
  viaDaemon: boolean
}

/**
 * Sends dead-lettered events again. A running daemon is asked over HTTP, so that it stays the
 * store's only writer; with none running, the store is updated and the next `cdp dev` sends them.
 */
export async function retryDeliveries(dir: string, request: RetryRequest): Promise<RetryResult> {
  const destinations = loadConfig(dir)?.config.destinations ?? []
  checkDestinationName(destinations, request.destination)
  const daemon = readDaemonInfo(dir)
  if (daemon) {
    let response: Response
    try {
      response = await fetch(`${daemon.url}/api/deliveries/retry`, {
        method: 'POST',
        headers: {'content-type': 'application/json', ...tokenHeaders(daemon.token)},
        body: JSON.stringify(request),
      })
    } catch (error) {
      throw new UserError(`The daemon at ${daemon.url} (pid ${daemon.pid}) did not answer: ${(error as Error).message}`, {hint: 'Check that `cdp dev` is running, or stop it and try again.', code: 'daemon_unreachable'})
    }
    const body = (await response.json()) as {retried?: number; error?: string}
    if (!response.ok) throw new UserError(`The daemon refused the retry: ${body.error ?? response.status}`, {code: 'retry_refused'})
    return {retried: body.retried ?? 0, viaDaemon: true}
  }
  const storage = await openStorage(workspacePaths(dir), {role: 'writer'})
  try {
    return {retried: await storage.deliveries.retryDead(request), viaDaemon: false}
  } finally {
    await storage.close()
  }
}
