import {describe, expect, it} from 'vitest'
import {escapeXml, junitXml} from '../../src/functions/junit.js'

describe('junitXml', () => {
  it('writes one suite per function with counts, failures, errors and skips', () => {
    const xml = junitXml([
      {
        name: 'crm',
        file: 'functions/crm.test.json',
        cases: [
          {name: 'posts', time: 0.0123},
          {name: 'refuses', time: 0.5, failure: {message: 'expected ValidationError, but it was delivered', type: 'AssertionError', details: 'expected:\n{"a": 1}'}},
        ],
      },
      {name: 'broken', cases: [{name: '(load)', time: 0, error: {message: 'functions/broken.js:3:1: Unexpected token', type: 'LoadError'}}]},
      {name: 'untested', cases: [{name: '(no tests)', time: 0, skipped: 'no untested.test.json'}]},
    ])
    expect(xml).toBe(
      [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<testsuites name="cdp fn test" tests="4" failures="1" errors="1" skipped="1" time="0.512">',
        '  <testsuite name="crm" tests="2" failures="1" errors="0" skipped="0" time="0.512" file="functions/crm.test.json">',
        '    <testcase classname="crm" name="posts" time="0.012"/>',
        '    <testcase classname="crm" name="refuses" time="0.500">',
        '      <failure message="expected ValidationError, but it was delivered" type="AssertionError">expected:\n{&quot;a&quot;: 1}</failure>',
        '    </testcase>',
        '  </testsuite>',
        '  <testsuite name="broken" tests="1" failures="0" errors="1" skipped="0" time="0.000">',
        '    <testcase classname="broken" name="(load)" time="0.000">',
        '      <error message="functions/broken.js:3:1: Unexpected token" type="LoadError"/>',
        '    </testcase>',
        '  </testsuite>',
        '  <testsuite name="untested" tests="1" failures="0" errors="0" skipped="1" time="0.000">',
        '    <testcase classname="untested" name="(no tests)" time="0.000">',
        '      <skipped message="no untested.test.json"/>',
        '    </testcase>',
        '  </testsuite>',
        '</testsuites>',
        '',
      ].join('\n'),
    )
  })

  it('escapes markup, keeps newlines in attributes, and makes characters XML cannot hold visible', () => {
    expect(escapeXml(`<a href="x">&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&amp;&apos;&lt;/a&gt;')
    expect(escapeXml('bell\u0007 esc\u001b lone\ud800 pair\ud83d\ude00')).toBe('bell\\u0007 esc\\u001b lone\\ud800 pair\ud83d\ude00')
    const xml = junitXml([{name: 'f', cases: [{name: 'a\nb ]]> \u0000', time: 0, failure: {message: 'line 1\nline 2', type: 'AssertionError'}}]}])
    expect(xml).toContain('name="a&#10;b ]]&gt; \\u0000"')
    expect(xml).toContain('<failure message="line 1&#10;line 2" type="AssertionError"/>')
  })
})
