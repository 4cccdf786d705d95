import {createHmac} from 'node:crypto'
import {cdpVersion} from '../version.js'
import {HttpClient} from './http.js'
import type {AdapterFactory} from './types.js'

/** HMAC-SHA256 of the exact body bytes with the shared secret, as lowercase hex. */
export function webhookSignature(secret: string, body: string): string {
  return createHmac('sha256', secret).update(body).digest('hex')
}

/**
 * POSTs events as JSON: one message per request with batchSize 1 (the default), otherwise a JSON
 * array of up to batchSize messages. With a secret, the signature header lets the receiver check
 * the body came from here.
 */
export const createWebhookDestination: AdapterFactory<'webhook'> = (config) => {
  const url = new URL(config.url)
  const secret = config.secret
  const signatureHeader = config.signatureHeader ?? 'X-Signature'
  const headers = {'user-agent': `cdp/${cdpVersion}`, ...config.headers}
  const batched = (config.batchSize ?? 1) > 1
  const client = new HttpClient()
  return {
    async send(batch, signal) {
      const body = batched ? `[${batch.map((event) => event.json).join(',')}]` : batch[0].json
      if (!batched && batch.length !== 1) throw new Error(`a webhook without batching sends one event at a time, not ${batch.length}`)
      const signed = secret === undefined ? headers : {...headers, [signatureHeader]: webhookSignature(secret, body)}
      await client.post(url, body, signed, signal)
    },
    async close() {
      client.destroy()
    },
  }
}
