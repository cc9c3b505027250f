import { UsageError } from '../args.js';

/**
 * Splits `--cflags "-DX='a b' -O1"` the way a POSIX shell splits words:
 * blanks separate, '…' is literal, "…" keeps blanks (backslash escapes
 * only \ " $ ` there), a backslash outside quotes escapes the next
 * character. Nothing is expanded: no variables, globs or command substitution,
 * since clang gets the words directly, not through a shell.
 */
export function splitShellWords(s: string, option: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === ' ' || c === '\t' || c === '\n') {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
      continue;
    }
    inWord = true;
    if (c === "'") {
      const end = s.indexOf("'", i + 1);
      if (end < 0) throw new UsageError(`${option} '${s}': unterminated single quote`);
      word += s.slice(i + 1, end);
      i = end;
    } else if (c === '"') {
      for (i++; ; i++) {
        if (i >= s.length) throw new UsageError(`${option} '${s}': unterminated double quote`);
        const d = s[i]!;
        if (d === '"') break;
        if (d === '\\' && i + 1 < s.length && '\\"$`\n'.includes(s[i + 1]!)) {
          if (s[i + 1] !== '\n') word += s[i + 1];
          i++;
        } else word += d;
      }
    } else if (c === '\\') {
      if (i + 1 >= s.length) throw new UsageError(`${option} '${s}': ends with a backslash`);
      if (s[i + 1] !== '\n') word += s[i + 1];
      else if (word === '') inWord = false;
      i++;
    } else word += c;
  }
  if (inWord) words.push(word);
  return words;
}
