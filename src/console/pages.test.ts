/** The console's CSV export cells (issue 18): always quoted, quotes doubled, formulas never run. */
import { describe, expect, it } from 'vitest';
import { csvCell } from './pages.ts';

describe('a CSV cell of the audit export', () => {
  it('is the text, quoted, with its quotes doubled', () => {
    expect(csvCell('signin.failure')).toBe('"signin.failure"');
    expect(csvCell('')).toBe('""');
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('two\nlines')).toBe('"two\nlines"');
  });
  it('keeps a ; or a tab inside its cell whatever the separator of the spreadsheet’s locale', () => {
    expect(csvCell("x;=cmd|'/C calc'!A0")).toBe(`"x;=cmd|'/C calc'!A0"`);
    expect(csvCell('a\tb')).toBe('"a\tb"');
  });
  it('starts with a quote mark when a spreadsheet would read it as a formula (CWE-1236)', () => {
    expect(csvCell('=1+1')).toBe(`"'=1+1"`);
    expect(csvCell('+1')).toBe(`"'+1"`);
    expect(csvCell('-1')).toBe(`"'-1"`);
    expect(csvCell('@SUM(A1)')).toBe(`"'@SUM(A1)"`);
    expect(csvCell('\t=1')).toBe(`"'\t=1"`);
    expect(csvCell('\r=1')).toBe(`"'\r=1"`);
    expect(csvCell('=HYPERLINK("http://evil.example","x")')).toBe(`"'=HYPERLINK(""http://evil.example"",""x"")"`);
    expect(csvCell('a=b')).toBe('"a=b"');
  });
});
