/** Where a plan folder keeps each event: events/<slug>.json, events/<slug>.v<version>.json. */

/** "Order Completed" → "order-completed" */
export function eventSlug(name: string): string {
  const slug = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
  return slug === '' ? 'event' : slug
}

/** The file a new event's rule is written to, relative to the plan folder; version 1 has no suffix. */
export function eventFile(name: string, version = 1): string {
  return `events/${eventSlug(name)}${version > 1 ? `.v${version}` : ''}.json`
}
