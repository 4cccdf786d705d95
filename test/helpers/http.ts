/** Small helpers to talk to a daemon the way an SDK does: JSON over HTTP with Basic auth. */
export function basicAuth(writeKey: string, withColon = true): string {
  return 'Basic ' + Buffer.from(withColon ? `${writeKey}:` : writeKey).toString('base64')
}

export interface Answer {
  status: number
  body: any
  headers: Headers
}

export async function post(url: string, body: unknown, options: {writeKey?: string; headers?: Record<string, string>; raw?: boolean} = {}): Promise<Answer> {
  const headers: Record<string, string> = {'content-type': 'application/json', ...options.headers}
  if (options.writeKey) headers.authorization = basicAuth(options.writeKey)
  const response = await fetch(url, {
    method: 'POST',
    headers,
    body: options.raw ? (body as RequestInit['body']) : JSON.stringify(body),
  })
  return answerOf(response)
}

/** Status, headers and body (parsed when it is JSON) of a response. */
async function answerOf(response: Response): Promise<Answer> {
  const text = await response.text()
  let parsed: unknown = text
  try {
    parsed = JSON.parse(text)
  } catch {}
  return {status: response.status, body: parsed, headers: response.headers}
}

export async function getJson(url: string, init: RequestInit = {}): Promise<Answer> {
  return answerOf(await fetch(url, init))
}
