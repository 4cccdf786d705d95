import http from 'node:http'
import https from 'node:https'
import {DeliveryError} from './types.js'
import {isRetryableStatus, parseRetryAfter} from './retry.js'

/** How much of a failed answer's body is kept in the delivery record. */
const bodyExcerptChars = 500

/** Keep-alive connections for one destination; destroy() closes them. */
export class HttpClient {
  private readonly agents = {
    'http:': new http.Agent({keepAlive: true, maxSockets: 64}),
    'https:': new https.Agent({keepAlive: true, maxSockets: 64}),
  }

  /**
   * POSTs the body; resolves on 2xx. Any other outcome rejects with a DeliveryError that says
   * whether retrying may help (network errors and timeouts do; statuses by Segment's rules).
   */
  post(url: URL, body: string, headers: Record<string, string>, signal: AbortSignal): Promise<void> {
    // Settings allow http and https URLs only (destinations.ts).
    const secure = url.protocol === 'https:'
    const transport = secure ? https : http
    const agent = secure ? this.agents['https:'] : this.agents['http:']
    // Encoded once: its length and the bytes written (a batch body is ~70 KB).
    const bytes = Buffer.from(body)
    return new Promise((resolve, reject) => {
      if (signal.aborted) return reject(abortError(signal))
      const request = transport.request(
        url,
        {method: 'POST', agent, headers: {'content-type': 'application/json', 'content-length': bytes.length, ...headers}},
        (response) => {
          const status = response.statusCode ?? 0
          const chunks: Buffer[] = []
          let kept = 0
          response.on('data', (chunk: Buffer) => {
            if (kept < bodyExcerptChars * 4) {
              chunks.push(chunk)
              kept += chunk.length
            }
          })
          response.on('error', (error) => reject(networkError(error)))
          response.on('end', () => {
            signal.removeEventListener('abort', onAbort)
            if (status >= 200 && status < 300) return resolve()
            const excerpt = Buffer.concat(chunks).toString('utf8').slice(0, bodyExcerptChars)
            const retryAfter = header(response.headers['retry-after'])
            reject(
              new DeliveryError(`HTTP ${status}${excerpt ? `: ${excerpt.replace(/\s+/g, ' ').trim().slice(0, 200)}` : ''}`, {
                retryable: isRetryableStatus(status),
                status,
                body: excerpt,
                retryAfterMs: parseRetryAfter(retryAfter),
              }),
            )
          })
        },
      )
      const onAbort = () => {
        request.destroy()
        reject(abortError(signal))
      }
      signal.addEventListener('abort', onAbort, {once: true})
      request.on('error', (error) => {
        signal.removeEventListener('abort', onAbort)
        reject(signal.aborted ? abortError(signal) : networkError(error))
      })
      request.end(bytes)
    })
  }

  destroy(): void {
    for (const agent of Object.values(this.agents)) agent.destroy()
  }
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value
}

function networkError(error: Error & {code?: string}): DeliveryError {
  return new DeliveryError(`network error: ${error.code ? `${error.code} ` : ''}${error.message}`, {retryable: true})
}

/** The worker aborts a send with a DeliveryError as the reason (its timeout); anything else is a stop. */
function abortError(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new DeliveryError('aborted', {retryable: true})
}
