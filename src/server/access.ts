import {createHash, timingSafeEqual} from 'node:crypto'
import type {IncomingMessage} from 'node:http'
import {BlockList, isIP} from 'node:net'
import {UserError} from '../errors.js'
import {HttpError} from './http-error.js'
import {formatHost, interfaceAddresses, isLoopbackAddress, isLoopbackName, isWildcardAddress, parseHost, type HostName} from './host.js'

/** What the daemon was told about who may reach its private routes (/api/*). */
export interface AccessOptions {
  /** Host names accepted beside loopback ones and the server's own addresses (--allow-host); `.example.test` takes its subdomains too. */
  allowHosts: readonly string[]
  /** The token /api/* requires when the server listens beyond loopback. */
  token?: string
}

/** Checks --allow-host values once, at start, so a typo is an error and not a silent refusal later. */
export function parseAllowedHosts(values: readonly string[]): string[] {
  return values.flatMap((value) => value.split(',')).map((value) => value.trim()).filter((value) => value !== '').map((value) => {
    const subdomains = value.startsWith('.')
    const host = parseHost(subdomains ? value.slice(1) : value)
    if (!host || host.port !== undefined || (subdomains && isIP(host.name) !== 0)) {
      throw new UserError(`--allow-host "${value}" is not a host name.`, {
        hint: 'Give a name or address without scheme or port, such as --allow-host my-laptop.local (or .example.test for a domain and its subdomains).',
        code: 'invalid_allow_host',
      })
    }
    return subdomains ? `.${host.name}` : host.name
  })
}

/** Interface addresses are looked up again after this long: a laptop changes networks while cdp dev runs. */
const interfaceRefreshMs = 5_000

/**
 * Who may use the daemon's private routes. The Tracking API is public by design (any page may send
 * events, as to Segment); /api/* reads and deletes every stored event, so it answers only:
 * - requests addressed to this daemon by a name that cannot be a DNS rebinding: loopback names
 *   and addresses, an address the server listens on, or a name given with --allow-host;
 * - requests with no browser origin, or this daemon's own (no other page's);
 * - off loopback, requests with the daemon's token (`Authorization: Bearer …`).
 */
export class AccessGuard {
  /** Whether /api/* needs the token: the server listens on more than loopback. */
  readonly tokenRequired: boolean
  private readonly names: Set<string>
  private readonly suffixes: string[]
  private readonly tokenDigest?: Buffer
  private own: BlockList
  private ownCheckedAt = 0

  constructor(
    options: AccessOptions,
    /** The address the server is bound to (`0.0.0.0` / `::` for every interface). */
    private readonly boundAddress: string,
  ) {
    this.names = new Set(options.allowHosts.filter((name) => !name.startsWith('.')))
    this.suffixes = options.allowHosts.filter((name) => name.startsWith('.'))
    this.tokenRequired = !isLoopbackAddress(boundAddress)
    if (this.tokenRequired) {
      if (!options.token) throw new Error('a server listening beyond loopback needs a token for /api/*')
      this.tokenDigest = digest(options.token)
    }
    this.own = this.ownAddresses()
  }

  /**
   * The host a request was addressed to, normalised, when it passes the same check as /api/*;
   * undefined otherwise. The settings document points analytics.js at it, so a hostile Host header
   * never becomes where a page sends its events.
   */
  addressedHost(header: string | undefined): string | undefined {
    const host = header === undefined ? undefined : parseHost(header)
    return host && this.nameAllowed(host.name) ? formatHost(host.name, host.port) : undefined
  }

  /** Refuses (throws the HttpError to answer) a request to a private route that does not pass; returns when it may go on. */
  checkPrivate(req: IncomingMessage, path: string): void {
    const header = req.headers.host
    if (header === undefined || header.trim() === '') {
      throw new HttpError(403, 'host_missing', `the request has no Host header; ${path} answers only requests addressed to this daemon, such as http://127.0.0.1:<port>${path}`)
    }
    const host = parseHost(header)
    if (!host || !this.nameAllowed(host.name)) {
      const name = host?.name ?? header
      throw new HttpError(
        403,
        'host_not_allowed',
        `${path} answers only requests addressed to this daemon by a loopback name (localhost, 127.0.0.1, [::1]), an address it listens on, or a name allowed with --allow-host; Host "${header}" is none of these, as when a page uses DNS rebinding. If you reach cdp dev by this name on purpose, start it with --allow-host ${host ? formatHost(name) : '<name>'}.`,
      )
    }
    const origin = req.headers.origin
    if (origin !== undefined && !sameOrigin(origin, host)) {
      throw new HttpError(
        403,
        'cross_origin',
        `${path} does not answer pages of other origins (this request came from ${origin === 'null' ? 'an opaque origin, "null"' : origin}): it holds every stored event. Use it from the cdp CLI, curl or other tools; pages send events to the Tracking API (/v1/*), which accepts any origin.`,
      )
    }
    // Browsers without Origin on a request (no-cors GETs such as <img> or <script>) still say where it comes from.
    // A top-level navigation is let through: its answer is shown to the person, never to the page that linked here.
    const site = req.headers['sec-fetch-site']
    if ((site === 'cross-site' || site === 'same-site') && req.headers['sec-fetch-mode'] !== 'navigate') {
      throw new HttpError(403, 'cross_site', `${path} does not answer requests made by a page on another site (Sec-Fetch-Site: ${site}); use the cdp CLI or curl, or open the address in the browser yourself.`)
    }
    if (this.tokenDigest) this.checkToken(req.headers.authorization, path)
  }

  private checkToken(authorization: string | undefined, path: string): void {
    const bearer = authorization === undefined ? undefined : /^bearer\s+(\S+)\s*$/i.exec(authorization)?.[1]
    if (bearer === undefined) {
      throw new HttpError(
        401,
        'token_required',
        `this daemon listens beyond loopback (--host ${this.boundAddress}), so ${path} needs its token: send "Authorization: Bearer <token>" with the "token" from .cdp/daemon.json in the daemon's workspace (cdp tail and cdp deliveries retry send it themselves).`,
      )
    }
    // Digests have one length whatever was sent, so the comparison takes the same time for every wrong token.
    if (!timingSafeEqual(digest(bearer), this.tokenDigest as Buffer)) {
      throw new HttpError(401, 'invalid_token', `the token does not match this daemon's; it changes at every start of cdp dev: read it again from .cdp/daemon.json in the daemon's workspace.`)
    }
  }

  private nameAllowed(name: string): boolean {
    if (isLoopbackName(name) || this.names.has(name)) return true
    if (this.suffixes.some((suffix) => name.endsWith(suffix) || name === suffix.slice(1))) return true
    const family = isIP(name)
    return family !== 0 && this.ownAddressesNow().check(name, family === 6 ? 'ipv6' : 'ipv4')
  }

  private ownAddressesNow(): BlockList {
    if (isWildcardAddress(this.boundAddress) && Date.now() - this.ownCheckedAt > interfaceRefreshMs) this.own = this.ownAddresses()
    return this.own
  }

  private ownAddresses(): BlockList {
    this.ownCheckedAt = Date.now()
    const list = new BlockList()
    const addresses = isWildcardAddress(this.boundAddress) ? interfaceAddresses() : [this.boundAddress]
    for (const address of addresses) {
      const family = isIP(address)
      if (family !== 0) list.addAddress(address, family === 6 ? 'ipv6' : 'ipv4')
    }
    return list
  }
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest()
}

/**
 * Whether an Origin is the daemon's own: the page was served by this very host and port. The
 * daemon serves no pages itself, so in practice only a person's own tab qualifies; every other
 * page (another port on localhost included) is a different origin.
 */
function sameOrigin(origin: string, host: HostName): boolean {
  if (!origin.startsWith('http://')) return false
  const parsed = parseHost(origin.slice('http://'.length))
  return parsed !== undefined && parsed.name === host.name && (parsed.port ?? 80) === (host.port ?? 80)
}
