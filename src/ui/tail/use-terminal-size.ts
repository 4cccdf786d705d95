import {useStdout} from 'ink'
import {useLayoutEffect, useState} from 'react'

export interface TerminalSize {
  columns: number
  rows: number
}

/** The terminal's size, updated on resize. A stream without a size (a pipe) counts as 80×24. */
export function useTerminalSize(): TerminalSize {
  const {stdout} = useStdout()
  const [size, setSize] = useState<TerminalSize>(() => ({columns: stdout.columns || 80, rows: stdout.rows || 24}))
  // A layout effect listens from the first commit on: a resize right after render() is not missed.
  useLayoutEffect(() => {
    const onResize = () => setSize({columns: stdout.columns || 80, rows: stdout.rows || 24})
    stdout.on('resize', onResize)
    return () => {
      stdout.off('resize', onResize)
    }
  }, [stdout])
  return size
}
