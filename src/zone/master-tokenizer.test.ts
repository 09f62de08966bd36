import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_ENTRY_CHARS, MasterTokenizer, type Entry } from './master-tokenizer.js';

/** Entries as `line[+]: field field ...` (`+` for a blank owner, `"..."` for quoted fields). */
function entries(text: string): string[] {
  const out: string[] = [];
  const tokenizer = new MasterTokenizer(text);
  for (let entry: Entry | undefined = tokenizer.next(); entry; entry = tokenizer.next()) {
    const fields = entry.tokens.map((t) => (t.quoted ? `"${t.text}"` : t.text)).join(' ');
    out.push(
      `${entry.line}${entry.blankOwner ? '+' : ''}: ${fields}${entry.error ? ` !${entry.error}` : ''}`,
    );
  }
  return out;
}

test('the tokenizer splits entries and fields', () => {
  const cases: { name: string; text: string; want: string[] }[] = [
    { name: 'empty', text: '', want: [] },
    { name: 'blank and comment lines', text: '\n   \n; c\n\t; c\n', want: [] },
    { name: 'one line without a newline', text: 'a b c', want: ['1: a b c'] },
    {
      name: 'blank owner',
      text: 'a A 1\n  AAAA ::1\n\tTXT x',
      want: ['1: a A 1', '2+: AAAA ::1', '3+: TXT x'],
    },
    { name: 'comment after fields', text: 'a TXT x ; y z\nb', want: ['1: a TXT x', '2: b'] },
    {
      name: 'quoted field with blanks and ;',
      text: 'a TXT "x ; y" z',
      want: ['1: a TXT "x ; y" z'],
    },
    {
      name: 'escapes stay in the text',
      text: 'a\\ b TXT "q\\"q" \\;',
      want: ['1: a\\ b TXT "q\\"q" \\;'],
    },
    { name: 'empty quoted field', text: 'a TXT ""', want: ['1: a TXT ""'] },
    { name: 'quote ends a word', text: 'a x"y"', want: ['1: a x "y"'] },
    {
      name: 'parentheses join lines',
      text: 'a SOA ( n r\n 1 ; c\n 2 )\nb A 1',
      want: ['1: a SOA n r 1 2', '4: b A 1'],
    },
    { name: 'nested parentheses', text: 'a ( b ( c ) d )\ne', want: ['1: a b c d', '2: e'] },
    { name: 'parentheses glued to fields', text: 'a SOA (n\nr)', want: ['1: a SOA n r'] },
    {
      name: 'CRLF',
      text: 'a A 1\r\n  B 2\r\n\r\nc ( d\r\n e )\r\n',
      want: ['1: a A 1', '2+: B 2', '4: c d e'],
    },
    { name: 'byte order mark', text: '\uFEFFa A 1', want: ['1: a A 1'] },
    { name: 'parenthesis inside quotes', text: 'a TXT "(" ")"', want: ['1: a TXT "(" ")"'] },
    { name: 'escaped parenthesis', text: 'a TXT \\( \\)', want: ['1: a TXT \\( \\)'] },
    { name: 'non-ASCII text', text: 'a TXT é "ü"', want: ['1: a TXT é "ü"'] },
    {
      name: 'escaped newline in quotes',
      text: 'a TXT "x\\\ny"\nb',
      want: ['1: a TXT "x\\\ny"', '3: b'],
    },
    { name: 'trailing backslash', text: 'a b\\', want: ['1: a b\\'] },
  ];
  for (const { name, text, want } of cases) assert.deepEqual(entries(text), want, name);
});

test('the tokenizer reports syntax errors on the entry and carries on', () => {
  const cases: { name: string; text: string; want: string[] }[] = [
    {
      name: 'unterminated quote',
      text: 'a TXT "x\nb A 1',
      want: ['1: a TXT !unterminated quoted string', '2: b A 1'],
    },
    {
      name: 'unterminated quote inside parentheses',
      text: 'a TXT ( "x\n y )\nb A 1',
      want: ['1: a TXT y !unterminated quoted string', '3: b A 1'],
    },
    {
      name: 'closing without opening',
      text: 'a A 1 )\nb',
      want: ['1: a A 1 !unbalanced parenthesis: ")" without "("', '2: b'],
    },
    {
      name: 'opening never closed',
      text: 'x A 1\na SOA ( n\nb A 1\n',
      want: ['1: x A 1', '2: a SOA n b A 1 !unbalanced parenthesis: "(" without ")"'],
    },
    {
      name: 'unterminated at the end',
      text: 'a TXT "x',
      want: ['1: a TXT !unterminated quoted string'],
    },
  ];
  for (const { name, text, want } of cases) assert.deepEqual(entries(text), want, name);
});

test('an entry with more than MAX_ENTRY_CHARS of fields is reported and skipped', () => {
  const long = 'x'.repeat(MAX_ENTRY_CHARS + 1);
  const tooLong = ` !entry too long: more than ${MAX_ENTRY_CHARS} characters of fields`;
  const cases: { name: string; text: string; want: string[] }[] = [
    { name: 'one long field', text: `a TXT ${long}\nb A 1`, want: [`1: ${tooLong}`, '2: b A 1'] },
    {
      name: 'one long quoted field, never closed',
      text: `a TXT "${long}\nb A 1`,
      want: [`1: ${tooLong}`, '2: b A 1'],
    },
    {
      name: 'many short fields',
      text: `a TXT${' y'.repeat(MAX_ENTRY_CHARS / 2 + 1)}\nb A 1`,
      want: [`1: ${tooLong}`, '2: b A 1'],
    },
    {
      name: 'inside parentheses the entry is read to its end',
      text: `a TXT ( ${long}\n z )\nb A 1`,
      want: [`1: z${tooLong}`, '3: b A 1'],
    },
    {
      name: 'at the bound is still good',
      text: `${'x'.repeat(MAX_ENTRY_CHARS - 1)}\nb`,
      want: [`1: ${'x'.repeat(MAX_ENTRY_CHARS - 1)}`, '2: b'],
    },
  ];
  for (const { name, text, want } of cases) assert.deepEqual(entries(text), want, name);
});
