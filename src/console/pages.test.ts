/** The console's CSV export cells (issue 18): quoted where CSV needs it, formulas never run. */
import { describe, expect, it } from 'vitest';
import { csvCell } from './pages.ts';

describe('a CSV cell of the audit export', () => {
  it('is the text itself when nothing in it means anything to CSV', () => {
    expect(csvCell('signin.failure')).toBe('signin.failure');
    expect(csvCell('')).toBe('');
    expect(csvCell('a=b')).toBe('a=b');
  });
  it('is quoted, with quotes doubled, when it holds a comma, a quote or a line break', () => {
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('two\nlines')).toBe('"two\nlines"');
  });
  it('starts with a quote mark when a spreadsheet would read it as a formula (CWE-1236)', () => {
    expect(csvCell('=1+1')).toBe("'=1+1");
    expect(csvCell('+1')).toBe("'+1");
    expect(csvCell('-1')).toBe("'-1");
    expect(csvCell('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvCell('\t=1')).toBe("'\t=1");
    expect(csvCell('\r=1')).toBe(`"'\r=1"`);
    expect(csvCell('=HYPERLINK("http://evil.example","x")')).toBe(`"'=HYPERLINK(""http://evil.example"",""x"")"`);
  });
});
