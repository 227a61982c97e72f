/**
 * A small RFC 4180 CSV parser: quoted fields, doubled quotes, CRLF or LF, newlines inside quotes.
 * Reports the 1-based line on which each record starts.
 */

export interface CsvRecord {
  line: number;
  cells: string[];
}

export function parseCsv(text: string, onRecord: (rec: CsvRecord) => void, delimiter = ','): void {
  const d = delimiter.charCodeAt(0);
  let i = 0;
  const n = text.length;
  let line = 1;
  if (text.charCodeAt(0) === 0xfeff) i = 1; // BOM
  while (i < n) {
    const startLine = line;
    const cells: string[] = [];
    let endOfRecord = false;
    while (!endOfRecord) {
      let cell: string;
      if (text.charCodeAt(i) === 34 /* " */) {
        i++;
        let buf = '';
        let from = i;
        for (;;) {
          if (i >= n) {
            buf += text.slice(from, i);
            break;
          }
          const c = text.charCodeAt(i);
          if (c === 34) {
            if (text.charCodeAt(i + 1) === 34) {
              buf += text.slice(from, i + 1);
              i += 2;
              from = i;
              continue;
            }
            buf += text.slice(from, i);
            i++;
            break;
          }
          if (c === 10) line++;
          i++;
        }
        // anything up to the delimiter after a closing quote is kept verbatim
        let j = i;
        while (j < n && text.charCodeAt(j) !== d && text.charCodeAt(j) !== 10 && text.charCodeAt(j) !== 13) j++;
        cell = buf + text.slice(i, j);
        i = j;
      } else {
        let j = i;
        while (j < n && text.charCodeAt(j) !== d && text.charCodeAt(j) !== 10 && text.charCodeAt(j) !== 13) j++;
        cell = text.slice(i, j);
        i = j;
      }
      cells.push(cell);
      if (i >= n) {
        endOfRecord = true;
      } else {
        const c = text.charCodeAt(i);
        if (c === d) {
          i++;
        } else {
          if (c === 13 && text.charCodeAt(i + 1) === 10) i += 2;
          else i++;
          line++;
          endOfRecord = true;
        }
      }
    }
    // skip blank lines
    if (cells.length === 1 && cells[0] === '') continue;
    onRecord({ line: startLine, cells });
  }
}
