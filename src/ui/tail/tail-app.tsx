import {Box, useApp, useInput, type Key} from 'ink'
import {useCallback, useRef, useState} from 'react'
import type {StreamFeed} from '../../stream/feed.js'
import type {StreamItem} from '../../stream/types.js'
import {detailLines} from './detail-lines.js'
import {EventDetail} from './event-detail.js'
import {EventList} from './event-list.js'
import {HelpBar} from './help-bar.js'
import {commandFor, type TailCommand} from './keys.js'
import {defaultCapacity, TailModel} from './model.js'
import {screenLayout} from './screen-layout.js'
import {StatusBar} from './status-bar.js'
import {useBatchedFeed} from './use-batched-feed.js'
import {useTerminalSize} from './use-terminal-size.js'

export interface TailAppProps {
  feed: StreamFeed
  /** Start with only the events that break the plan (`v` toggles). Read once, at mount. */
  violationsOnly?: boolean
  /** The name on the status line. */
  title?: string
  /** Items from the feed are drawn at most once per this many ms. */
  flushIntervalMs?: number
  /** Events kept in memory. Read once, at mount. */
  capacity?: number
  /** Called when the user quits, before the app exits. */
  onQuit?: () => void
}

/** The `cdp tail` screen: status, the live list or one event's detail, and the keys. */
export function TailApp({feed, violationsOnly = false, title = 'cdp tail', flushIntervalMs = 80, capacity = defaultCapacity, onQuit}: TailAppProps) {
  const {exit} = useApp()
  const {columns, rows} = useTerminalSize()
  const layout = screenLayout(columns, rows)
  const [model] = useState(() => new TailModel({capacity, violationsOnly, listHeight: layout.listHeight, detailHeight: layout.detailHeight}))
  // The model is mutable; a new version number is what tells React to draw it again.
  const [, setVersion] = useState(0)
  const redraw = useCallback(() => setVersion((version) => version + 1), [])

  // Adjusting to a new terminal size during render (idempotent) saves a frame drawn at the old size.
  if (model.view.listHeight !== layout.listHeight || model.view.detailHeight !== layout.detailHeight) model.resize(layout.listHeight, layout.detailHeight)

  const connection = useBatchedFeed(
    feed,
    (items: StreamItem[]) => {
      model.ingest(items)
      redraw()
    },
    flushIntervalMs,
  )

  const view = model.view
  const detail = view.mode === 'detail' && view.detail !== undefined ? detailLines(view.detail) : []

  const run = (command: TailCommand) => {
    switch (command.kind) {
      case 'quit':
        onQuit?.()
        exit()
        return
      case 'move':
        return model.move(command.step)
      case 'scroll':
        return model.scrollDetail(command.step, detail.length)
      case 'open':
        return model.openDetail()
      case 'back':
        return model.closeDetail()
      case 'filter-start':
        return model.startFilter()
      case 'filter-type':
        return model.typeFilter(command.text)
      case 'filter-erase':
        return model.eraseFilterChar()
      case 'filter-apply':
        return model.applyFilter()
      case 'filter-clear':
        return model.clearFilter()
      case 'toggle-violations':
        return model.toggleViolationsOnly()
      case 'toggle-pause':
        return model.togglePause()
      case 'clear':
        return model.clear()
    }
  }

  // useInput subscribes again whenever its handler changes: keep one handler that calls the latest.
  const runKey = useRef((_input: string, _key: Key) => {})
  runKey.current = (input, key) => {
    const command = commandFor(model.view.mode, input, key)
    if (command === undefined) return
    run(command)
    if (command.kind !== 'quit') redraw()
  }
  useInput(useCallback((input: string, key: Key) => runKey.current(input, key), []))

  return (
    <Box flexDirection="column" width={columns}>
      <StatusBar title={title} connection={connection} view={view} />
      {view.mode === 'detail' ? <EventDetail lines={detail} scroll={view.detailScroll} height={view.detailHeight} /> : <EventList view={view} width={columns} />}
      <HelpBar view={view} width={columns} detailLineCount={detail.length} />
    </Box>
  )
}
