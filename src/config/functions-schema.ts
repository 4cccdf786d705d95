/**
 * The JSON Schema of cdp.json's `functions` list: user JavaScript run on the event stream
 * (src/functions/). Part of the one schema of cdp.json (schema.ts); what the schema cannot say
 * (files, environment variables, names used by sources and destinations) is checked by
 * src/config/functions.ts.
 */

/** A function's name, as sources and destinations are named. */
export const functionNamePattern = '^[A-Za-z0-9][A-Za-z0-9_.-]*$'

/** A host fetch() may reach: a name or address, optionally :port, optionally *. before a domain. */
export const allowedHostPattern = '^(\\*\\.)?([A-Za-z0-9-]+(\\.[A-Za-z0-9-]+)*|\\[[0-9A-Fa-f:.]+\\])(:[0-9]{1,5})?$'

/** An environment variable's name, in a setting's {"env": "NAME"}. */
export const envNamePattern = '^[A-Za-z_][A-Za-z0-9_]*$'

export const functionNameSchema = {type: 'string', pattern: functionNamePattern, maxLength: 64} as const

export const functionSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'kind'],
  properties: {
    name: {description: 'The function\'s name: its file is functions/NAME.js (or .ts); sources and destinations use it by this name.', ...functionNameSchema},
    kind: {
      description: 'source: onRequest(request, settings) behind POST /v1/functions/NAME; insert: onTrack(event, settings)… returning the changed event, attached with "insert" on a source or destination; destination: onTrack(event, settings)… sending events on, used by a destination of type "function".',
      enum: ['source', 'insert', 'destination'],
    },
    file: {description: 'The file, relative to cdp.json (default functions/NAME.js, else functions/NAME.ts).', type: 'string', minLength: 1},
    source: {description: 'Source functions: the source (in "sources") whose events they emit: its plan, Protocols settings, insert function and destinations apply, and requests need its write key. Default: the source named like the function.', ...functionNameSchema},
    settings: {
      description: 'The handlers\' settings argument. A value written {"env": "NAME"} is read from that environment variable when cdp starts, so secrets stay out of git.',
      type: 'object',
    },
    timeoutMs: {description: 'Time limit of one call, in ms (default 5000, Segment\'s).', type: 'integer', minimum: 10, maximum: 600000},
    memoryMb: {description: 'Heap limit of the function, in MB (default 128).', type: 'integer', minimum: 8, maximum: 4096},
    allowedHosts: {
      description: 'Hosts fetch() may reach: "api.example.com" (any port), "127.0.0.1:8080" (that port), "*.example.com" (its subdomains). Every other host is refused.',
      type: 'array',
      uniqueItems: true,
      items: {type: 'string', pattern: allowedHostPattern, maxLength: 260},
    },
  },
} as const
