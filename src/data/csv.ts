/**
 * A small RFC 4180 CSV parser: quoted fields, doubled quotes, CRLF or LF, newlines inside quotes.
 * Reports the 1-based line on which each record starts. Incremental: text may arrive in chunks
 * (records, quoted fields and CRLF may straddle them); only the unfinished record is kept.
 */

export interface CsvRecord {
  line: number;
  cells: string[];
}

export class CsvParser {
  private rest = '';
  private line = 1;
  private started = false;
  private readonly d: number;
  constructor(
    private readonly onRecord: (rec: CsvRecord) => void,
    delimiter = ',',
  ) {
    this.d = delimiter.charCodeAt(0);
  }

  push(text: string): void {
    this.parse(this.rest.length > 0 ? this.rest + text : text, false);
  }

  end(): void {
    this.parse(this.rest, true);
    this.rest = '';
  }

  private parse(text: string, final: boolean): void {
    const d = this.d;
    const n = text.length;
    let i = 0;
    let line = this.line;
    if (!this.started && n > 0) {
      this.started = true;
      if (text.charCodeAt(0) === 0xfeff) i = 1; // BOM
    }
    while (i < n) {
      const recordStart = i;
      const startLine = line;
      const cells: string[] = [];
      let endOfRecord = false;
      let incomplete = false;
      while (!endOfRecord) {
        let cell: string;
        if (text.charCodeAt(i) === 34 /* " */) {
          i++;
          let buf = '';
          let from = i;
          for (;;) {
            if (i >= n) {
              if (!final) incomplete = true;
              buf += text.slice(from, i);
              break;
            }
            const c = text.charCodeAt(i);
            if (c === 34) {
              if (i + 1 >= n && !final) {
                incomplete = true; // a doubled quote may follow in the next chunk
                break;
              }
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
          if (incomplete) break;
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
          if (!final) {
            incomplete = true;
            break;
          }
          endOfRecord = true;
        } else {
          const c = text.charCodeAt(i);
          if (c === d) {
            i++;
          } else {
            if (c === 13 && i + 1 >= n && !final) {
              incomplete = true; // CR at the end of a chunk: an LF may follow
              break;
            }
            if (c === 13 && text.charCodeAt(i + 1) === 10) i += 2;
            else i++;
            line++;
            endOfRecord = true;
          }
        }
      }
      if (incomplete) {
        this.rest = text.slice(recordStart);
        this.line = startLine;
        return;
      }
      // skip blank lines
      if (cells.length === 1 && cells[0] === '') continue;
      this.onRecord({ line: startLine, cells });
    }
    this.rest = '';
    this.line = line;
  }
}

export function parseCsv(text: string, onRecord: (rec: CsvRecord) => void, delimiter = ','): void {
  const p = new CsvParser(onRecord, delimiter);
  p.push(text);
  p.end();
}
