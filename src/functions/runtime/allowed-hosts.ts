/**
 * allowedHosts of a function: "api.example.com" (any port), "127.0.0.1:8080" (that port only),
 * "*.example.com" (any subdomain, not example.com itself), "[::1]:8080" (IPv6). Compared on the
 * parsed URL, lower case, so "API.example.com" and a trailing dot do not slip through.
 */

interface Rule {
  host: string
  wildcard: boolean
  port?: string
}

function parseRule(entry: string): Rule | undefined {
  let text = entry.trim().toLowerCase()
  if (text === '') return undefined
  let port: string | undefined
  const v6 = /^(\[[^\]]+\])(?::(\d+))?$/.exec(text)
  if (v6) {
    text = v6[1]
    port = v6[2]
  } else {
    const at = text.lastIndexOf(':')
    if (at >= 0) {
      port = text.slice(at + 1)
      text = text.slice(0, at)
      if (!/^\d+$/.test(port)) return undefined
    }
  }
  if (port !== undefined) port = String(Number(port))
  const wildcard = text.startsWith('*.')
  const host = stripDot(wildcard ? text.slice(1) : text)
  return {host, wildcard, port}
}

function stripDot(host: string): string {
  return host.endsWith('.') ? host.slice(0, -1) : host
}

function defaultPort(protocol: string): string {
  return protocol === 'https:' ? '443' : protocol === 'http:' ? '80' : ''
}

export function isHostAllowed(url: URL, allowedHosts: readonly string[]): boolean {
  const hostname = stripDot(url.hostname.toLowerCase())
  const port = url.port === '' ? defaultPort(url.protocol) : url.port
  for (const entry of allowedHosts) {
    const rule = parseRule(entry)
    if (rule === undefined) continue
    if (rule.port !== undefined && rule.port !== port) continue
    if (rule.wildcard ? hostname.endsWith(rule.host) && hostname.length > rule.host.length : hostname === rule.host) return true
  }
  return false
}
