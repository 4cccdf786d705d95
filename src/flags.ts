import {Flags} from '@oclif/core'

/** Flags shared by commands, defined once and spread into each command's flags. */
export const dirFlag = {
  dir: Flags.string({
    char: 'd',
    description: 'Workspace folder (the one with cdp.json). Defaults to the current folder.',
    env: 'CDP_DIR',
    default: '.',
    helpValue: 'DIR',
  }),
}

export const serverFlags = {
  port: Flags.integer({
    char: 'p',
    description: 'Port to listen on; 0 picks a free one.',
    env: 'CDP_PORT',
    default: 8237,
    min: 0,
    max: 65535,
  }),
  host: Flags.string({
    description: 'Address to bind. 127.0.0.1 keeps the daemon local; 0.0.0.0 exposes it to the network (the Tracking API to anyone who reaches it, /api/* only with the token in .cdp/daemon.json).',
    env: 'CDP_HOST',
    default: '127.0.0.1',
  }),
  'allow-host': Flags.string({
    description: 'A host name /api/* accepts in the Host header beside localhost, loopback addresses and the addresses cdp dev listens on (repeatable; .example.test takes its subdomains too). For a name you reach the daemon by, such as a tunnel or a container name; any other name is refused, as DNS rebinding pages use.',
    env: 'CDP_ALLOW_HOST',
    multiple: true,
    delimiter: ',',
    helpValue: 'NAME',
  }),
}
