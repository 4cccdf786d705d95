import chalk from 'chalk'
import type {ObservedEventReport} from '../services/schema.js'
import {printable} from '../printable.js'
import {formatRow, type ColumnLayout} from './table.js'

// A property's path, its JSON types with counts, how many events had it.
const propertyLayout: ColumnLayout[] = [{width: 40}, {width: 24}, {}]

function types(counts: Record<string, number>): string {
  return Object.entries(counts)
    .map(([type, n]) => `${type}×${n}`)
    .join(' ')
}

export function renderSchemaReport(events: readonly ObservedEventReport[]): string {
  if (events.length === 0) return chalk.dim('No track, identify or group events stored yet.')
  const lines: string[] = []
  for (const event of events) {
    const mark = event.planned ? chalk.green('planned  ') : chalk.red('UNPLANNED')
    lines.push(`${mark} ${chalk.bold(printable(event.type === 'track' ? event.name : `${event.type} traits`))}  ${event.count} seen, first ${event.firstSeen}, last ${event.lastSeen}`)
    for (const property of event.properties) {
      const planned = !event.planned ? '' : property.planned ? '' : chalk.yellow(' (not in plan)')
      lines.push(formatRow(propertyLayout, [property.path, types(property.types), `in ${property.count}`], {indent: '    '}) + planned)
    }
  }
  return lines.join('\n')
}
