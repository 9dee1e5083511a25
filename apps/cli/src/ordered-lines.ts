/**
 * Prints lines in the order their slots were reserved, although they are
 * filled in whatever order acknowledgements arrive: `braid produce
 * --verbose` reports each input line's partition and offset in input order.
 * Holds only the lines waiting for an earlier slot.
 */
export class OrderedLines {
  private readonly waiting = new Map<number, string | undefined>();
  private next = 0;
  private reserved = 0;

  constructor(private readonly write: (text: string) => void) {}

  /** Reserves the next slot. */
  reserve(): number {
    return this.reserved++;
  }

  /** Fills `slot` with `line` (or with nothing) and prints every line that is now due. */
  fill(slot: number, line: string | undefined): void {
    this.waiting.set(slot, line);
    while (this.waiting.has(this.next)) {
      const due = this.waiting.get(this.next);
      this.waiting.delete(this.next);
      this.next += 1;
      if (due !== undefined) this.write(`${due}\n`);
    }
  }
}
