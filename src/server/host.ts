import {BlockList, isIP} from 'node:net'
import {networkInterfaces} from 'node:os'

/** A host as a browser or client names it: a lowercase name or IP address (IPv6 without brackets) and a port, if given. */
export interface HostName {
  name: string
  port?: number
}

const label = /^[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?$/

/**
 * Parses a Host header (or the host part of an origin, or a --allow-host value): `name`,
 * `name:port`, `[v6]` or `[v6]:port`. Names are lowercased and lose one trailing dot
 * (`localhost.` is `localhost`), so the same host is never two spellings. Undefined when the
 * text is not a host at all (spaces, user info, a bare IPv6 address, an empty label, a bad port).
 */
export function parseHost(text: string): HostName | undefined {
  let rest = text.trim().toLowerCase()
  let name: string
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']')
    if (close === -1) return undefined
    name = rest.slice(1, close)
    if (isIP(name) !== 6) return undefined
    rest = rest.slice(close + 1)
  } else {
    const colon = rest.indexOf(':')
    name = colon === -1 ? rest : rest.slice(0, colon)
    rest = colon === -1 ? '' : rest.slice(colon)
    if (name.endsWith('.')) name = name.slice(0, -1)
    if (name === '' || name.length > 253 || !name.split('.').every((part) => label.test(part))) return undefined
  }
  if (rest === '') return {name}
  const port = /^:(\d{1,5})$/.exec(rest)
  if (!port || Number(port[1]) > 65_535) return undefined
  return {name, port: Number(port[1])}
}

/** How a host is written in a URL or Host header: IPv6 addresses in brackets. */
export function formatHost(name: string, port?: number): string {
  const shown = isIP(name) === 6 ? `[${name}]` : name
  return port === undefined ? shown : `${shown}:${port}`
}

const loopback = new BlockList()
loopback.addSubnet('127.0.0.0', 8, 'ipv4')
loopback.addAddress('::1', 'ipv6')

/** An IP address of this machine's loopback interface (127.0.0.0/8, ::1, and IPv4-mapped forms). */
export function isLoopbackAddress(address: string): boolean {
  const family = isIP(address)
  return family !== 0 && loopback.check(address, family === 6 ? 'ipv6' : 'ipv4')
}

/** A name that can only mean this machine: localhost, *.localhost (browsers resolve these to loopback themselves), or a loopback address. */
export function isLoopbackName(name: string): boolean {
  return name === 'localhost' || name.endsWith('.localhost') || isLoopbackAddress(name)
}

/** A wildcard bind address: the server listens on every interface. */
export function isWildcardAddress(address: string): boolean {
  return address === '0.0.0.0' || address === '::'
}

/** This machine's interface addresses (link-local IPv6 left out: browsers cannot address them without a zone). */
export function interfaceAddresses(): string[] {
  const addresses: string[] = []
  for (const entries of Object.values(networkInterfaces())) {
    for (const entry of entries ?? []) {
      if (entry.family === 'IPv6' && entry.address.toLowerCase().startsWith('fe80:')) continue
      addresses.push(entry.address)
    }
  }
  return addresses
}

/**
 * Every URL a server bound to `address` can be reached at: the address itself, or for a wildcard
 * bind each interface address of the families it accepts (loopback first).
 */
export function listeningUrls(address: string, port: number): string[] {
  if (!isWildcardAddress(address)) return [`http://${formatHost(address, port)}`]
  // '::' also takes IPv4 connections (dual stack); 0.0.0.0 takes IPv4 only.
  const addresses = interfaceAddresses().filter((a) => address === '::' || isIP(a) === 4)
  addresses.sort((a, b) => Number(isLoopbackAddress(b)) - Number(isLoopbackAddress(a)) || isIP(a) - isIP(b))
  return addresses.map((a) => `http://${formatHost(a, port)}`)
}
