import {describe, expect, it} from 'vitest'
import {destinationLabels, listColumns} from '../../src/ui/tail/list-lines.js'
import {displayWidth, fit, truncate} from '../../src/ui/tail/text.js'

describe('cdp tail text cells', () => {
  it('fits cells by terminal columns, cutting with an ellipsis and flattening control characters', () => {
    expect(fit('Order Completed', 8)).toBe('Order C…')
    expect(fit('web', 6)).toBe('web   ')
    expect(truncate('line one\nline two', 20)).toBe('line one line two')
    // CJK takes two columns a character.
    expect(displayWidth('注文完了')).toBe(8)
    expect(fit('注文完了しました', 7)).toBe('注文完…')
    expect(fit('注文完了しました', 8)).toBe('注文完… ')
    expect(displayWidth(fit('注文完了しました', 7))).toBe(7)
  })

  it('labels destination columns with prefixes no other destination shares', () => {
    expect(destinationLabels(['webhook', 'file', 'segment'], false)).toEqual(['w', 'f', 's'])
    expect(destinationLabels(['webhook', 'warehouse'], false)).toEqual(['we', 'wa'])
    expect(destinationLabels(['web', 'webhook'], false)).toEqual(['web', 'webh'])
    expect(destinationLabels(['webhook', 'warehouse-eu-central'], true)).toEqual(['webhook', 'warehouse-'])
  })

  it('shares the width left by the fixed columns between name, user and source', () => {
    const narrow = listColumns(80, ['webhook', 'warehouse'])
    const used = 2 + narrow.time + 1 + narrow.plan + 1 + narrow.type + 1 + narrow.name + 1 + narrow.user + 1 + narrow.source + 1 + 'we wa'.length
    expect(used).toBe(80)
    expect(narrow.messageId).toBe(0)
    expect(listColumns(160, []).messageId).toBe(36)
  })
})
