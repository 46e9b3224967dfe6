/**
 * A window onto a long list that lives in the store (events by position, dead letters by id):
 * it holds a few pages around the cursor and reads more by key as the cursor moves, so a list
 * of a million rows opens as fast as an empty one and memory stays bounded.
 */

/** One page read from a source, ascending by key. */
export interface PageResult<T> {
  rows: T[];
  /** Where to go on in the same direction (exclusive): the last key looked at. */
  next: number;
  /** Nothing more lies that way (for now: a live list may grow at its end). */
  done: boolean;
}

/**
 * What one window operation (one key press) may still scan, shared by every read it makes:
 * a source that filters what it reads (text, correlation id) looks at no more rows than
 * `remaining` in all, and lets keys in between its store pages, so a search that finds
 * nothing costs one budget per key and Esc or q can stop it.
 */
export interface Scan {
  /** Rows the operation may still look at; a filtering source subtracts what it read. */
  remaining: number;
  /** The operation was cancelled (Esc, a new filter, the view closed): read no further. */
  readonly cancelled: boolean;
  /** Awaited between store pages: lets the event loop (keys) in. */
  pause(): Promise<void>;
}

/** A scan of its own, for a read made outside a window operation. */
export function freshScan(budget: number): Scan {
  return { remaining: budget, cancelled: false, pause: () => new Promise<void>((resolve) => setImmediate(resolve)) };
}

/** A list readable by key, both ways. Keys are positive integers, ascending. */
export interface PagedSource<T> {
  keyOf(row: T): number;
  /** Rows with a key above `after` (0: from the start), ascending. */
  forward(after: number, limit: number, scan?: Scan): Promise<PageResult<T>>;
  /**
   * Rows with a key below `before` (null: from the end), ascending. `ceiling` is the bound
   * used: with null, the key past the end as it was when read.
   */
  backward(before: number | null, limit: number, scan?: Scan): Promise<PageResult<T> & { ceiling: number }>;
}

/** Where an operation stopped searching, its scan budget spent (or cancelled): a key goes on from there. */
export interface SearchStop {
  direction: 'backward' | 'forward';
  /** The last key looked at. */
  key: number;
}

export interface WindowState<T> {
  rows: readonly T[];
  /** Index of the row under the cursor (0 when there are none). */
  cursor: number;
  /** Index of the first row on screen. */
  top: number;
  /** More rows may lie before the first / after the last. */
  moreBefore: boolean;
  moreAfter: boolean;
  /** A read is in progress (the first one: nothing to show yet). */
  loading: boolean;
  /** A search (a read that scans) is running and has let keys in: Esc can stop it. */
  searching: boolean;
  /** The last operation stopped here, its scan budget spent or cancelled, without reaching what it looked for. */
  searched: SearchStop | null;
  error: string | null;
}

export interface PagedWindowOptions {
  /** Rows read at once (default 100). */
  chunk?: number;
  /** Rows held at most (default 600); the far side of the cursor is dropped beyond it. */
  maxRows?: number;
  /** Reads per move when a filtered source scans without finding rows (default 8). */
  maxEmptyReads?: number;
  /** Rows a filtering source may look at per operation, all its reads together (default 20,000). */
  scanBudget?: number;
}

/** Rows scanned per key press, at most, by default: a fraction of a second on a big store. */
export const SCAN_BUDGET = 20_000;

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export class PagedWindow<T> {
  private source: PagedSource<T>;
  private rows: T[] = [];
  private cursor = 0;
  private top = 0;
  private height = 10;
  private startNext = 0;
  private startDone = true;
  private endNext = 0;
  private endDone = true;
  private loading = true;
  private searching = false;
  private searched: SearchStop | null = null;
  private error: string | null = null;
  /** Grows with every cancel: an operation of an older generation stops (or never starts). */
  private generation = 0;
  /** The running operation's scan. */
  private scan: Scan = freshScan(0);
  private lastRead: 'backward' | 'forward' = 'forward';
  /** Operations queued or running. */
  private pending = 0;
  private queue: Promise<void> = Promise.resolve();
  /** Opens the list again as it was last opened: a key after a failed open tries again. */
  private reopen: (() => Promise<void>) | null = null;
  private readonly listeners = new Set<() => void>();
  private snapshot: WindowState<T>;
  private readonly chunk: number;
  private readonly maxRows: number;
  private readonly maxEmptyReads: number;
  private readonly scanBudget: number;

  constructor(source: PagedSource<T>, options: PagedWindowOptions = {}) {
    this.source = source;
    this.chunk = options.chunk ?? 100;
    this.maxRows = Math.max(options.maxRows ?? 600, this.chunk * 3);
    this.maxEmptyReads = options.maxEmptyReads ?? 8;
    this.scanBudget = options.scanBudget ?? SCAN_BUDGET;
    this.snapshot = this.makeSnapshot();
  }

  /** The current state; the same object until something changes (for useSyncExternalStore). */
  state(): WindowState<T> {
    return this.snapshot;
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Reads from `source` from now on, without reading again (the same list, read another way). */
  setSource(source: PagedSource<T>): void {
    this.source = source;
  }

  /** The row under the cursor. */
  current(): T | undefined {
    return this.rows[this.cursor];
  }

  /** Rows on screen; the cursor stays inside them. */
  setHeight(height: number): void {
    const next = Math.max(1, height);
    if (next === this.height) return;
    this.height = next;
    this.publish();
  }

  /**
   * Stops the running operation at its next store page and drops those waiting (Esc during a
   * long search, a new filter, the view closing). Whatever was read stays shown.
   */
  cancel(): void {
    this.generation++;
  }

  /** True while an operation runs or waits. */
  busy(): boolean {
    return this.pending > 0;
  }

  /** Runs window operations one after another, so key presses apply in order. */
  private run(operation: () => Promise<void>): Promise<void> {
    const generation = this.generation;
    this.pending++;
    this.queue = this.queue.then(async () => {
      this.pending--;
      if (generation !== this.generation) return;
      let announced = false;
      const cancelled = () => generation !== this.generation;
      this.scan = {
        remaining: this.scanBudget,
        get cancelled() {
          return cancelled();
        },
        pause: async () => {
          if (!announced && generation === this.generation) {
            announced = true;
            this.searching = true;
            // Only the flag: the rows are mid-operation.
            this.snapshot = { ...this.snapshot, searching: true };
            for (const listener of this.listeners) listener();
          }
          await new Promise<void>((resolve) => setImmediate(resolve));
        },
      };
      this.searched = null;
      try {
        await operation();
        this.error = null;
      } catch (error) {
        this.error = message(error);
      } finally {
        this.loading = false;
        this.searching = false;
        this.publish();
      }
    });
    return this.queue;
  }

  /** The operation may read on: its scan budget is not spent and it was not cancelled. */
  private canScan(): boolean {
    return this.scan.remaining > 0 && !this.scan.cancelled;
  }

  /** After an operation's reads: notes where it stopped when its scan ran out short of its goal. */
  private noteStop(goalReached: boolean): void {
    if (goalReached || this.canScan()) return;
    if (this.lastRead === 'backward' && !this.startDone) this.searched = { direction: 'backward', key: this.startNext };
    if (this.lastRead === 'forward' && !this.endDone) this.searched = { direction: 'forward', key: this.endNext };
  }

  /** Shows the list from its first row (with a new source: a new filter). */
  openAtStart(source?: PagedSource<T>): Promise<void> {
    this.cancel();
    this.reopen = () => this.openAtStart();
    return this.run(async () => {
      if (source) this.source = source;
      const page = await this.source.forward(0, this.chunk, this.scan);
      this.lastRead = 'forward';
      this.rows = page.rows;
      this.startNext = 0;
      this.startDone = true;
      this.endNext = page.next;
      this.endDone = page.done;
      this.cursor = 0;
      this.top = 0;
      await this.fillForward();
      this.noteStop(this.rows.length >= this.height);
    });
  }

  /** Shows the list's last rows, the cursor on the last one. */
  openAtEnd(source?: PagedSource<T>): Promise<void> {
    this.cancel();
    this.reopen = () => this.openAtEnd();
    return this.run(async () => {
      if (source) this.source = source;
      const page = await this.source.backward(null, this.chunk, this.scan);
      this.lastRead = 'backward';
      this.rows = page.rows;
      this.startNext = page.next;
      this.startDone = page.done;
      this.endNext = page.ceiling - 1;
      this.endDone = true;
      this.cursor = Math.max(0, this.rows.length - 1);
      this.top = Math.max(0, this.rows.length - this.height);
      await this.fillBackward();
      this.noteStop(this.rows.length >= this.height);
    });
  }

  /** Shows the rows around `key`, the cursor on the first row at or after it. */
  openAt(key: number, source?: PagedSource<T>): Promise<void> {
    this.cancel();
    this.reopen = () => this.openAt(key);
    return this.run(async () => {
      if (source) this.source = source;
      const half = Math.ceil(this.chunk / 2);
      // Half the scan each way, so the rows at the key show whatever lies before it.
      const budget = this.scan.remaining;
      this.scan.remaining = Math.ceil(budget / 2);
      const before = await this.source.backward(key, half, this.scan);
      this.scan.remaining += Math.floor(budget / 2);
      const after = await this.source.forward(key - 1, half, this.scan);
      this.lastRead = 'forward';
      this.rows = [...before.rows, ...after.rows];
      this.startNext = before.next;
      this.startDone = before.done;
      this.endNext = after.next;
      this.endDone = after.done;
      const at = this.rows.findIndex((row) => this.source.keyOf(row) >= key);
      this.cursor = at === -1 ? Math.max(0, this.rows.length - 1) : at;
      this.top = Math.max(0, this.cursor - Math.floor(this.height / 2));
    });
  }

  /** Moves the cursor by `delta` rows, reading more from the store when it leaves the window. */
  move(delta: number): Promise<void> {
    if (this.rows.length === 0 && this.error !== null && this.reopen) return this.reopen();
    return this.run(async () => {
      let target = this.cursor + delta;
      for (let reads = 0; target < 0 && !this.startDone && reads < this.maxEmptyReads && this.canScan(); reads++) {
        const added = await this.readBackward();
        target += added;
        if (added > 0) reads = 0;
      }
      for (
        let reads = 0;
        target >= this.rows.length && !this.endDone && reads < this.maxEmptyReads && this.canScan();
        reads++
      ) {
        const added = await this.readForward();
        if (added > 0) reads = 0;
      }
      this.noteStop(target >= 0 && target < this.rows.length);
      this.cursor = Math.max(0, Math.min(target, this.rows.length - 1));
      if (delta > 1 || delta < -1) this.top += delta;
      this.trim();
    });
  }

  /**
   * Reads what was appended after the last row, when the window reaches the end of the list
   * (otherwise new rows are read when the cursor gets there). With `follow`, the cursor moves
   * to the new last row.
   */
  extendEnd(follow: boolean): Promise<void> {
    return this.run(async () => {
      if (!this.endDone) return;
      this.endDone = false;
      for (let reads = 0; !this.endDone && reads < this.maxEmptyReads && this.canScan(); reads++) {
        if ((await this.readForward()) > 0) reads = 0;
        if (!follow && this.rows.length > this.maxRows) break;
      }
      if (follow) {
        this.cursor = Math.max(0, this.rows.length - 1);
        this.top = this.rows.length;
      }
      this.trim();
    });
  }

  /** Reads the rows on screen again (their content may have changed), keeping the cursor's key. */
  refresh(): Promise<void> {
    return this.run(async () => {
      const current = this.rows[this.cursor];
      if (!current) {
        // Empty: read from the start again.
        const page = await this.source.forward(0, this.chunk, this.scan);
        this.rows = page.rows;
        this.startDone = true;
        this.endNext = page.next;
        this.endDone = page.done;
        this.cursor = 0;
        this.top = 0;
        return;
      }
      const key = this.source.keyOf(current);
      const offset = this.cursor - this.top;
      // Read again from a chunk above the screen; what lies before that stays as it was.
      const firstIndex = Math.max(0, this.top - this.chunk);
      const from = this.source.keyOf(this.rows[firstIndex] as T);
      const page = await this.source.forward(from - 1, this.chunk * 2 + this.height, this.scan);
      this.rows = page.rows;
      this.startNext = from;
      this.startDone = this.startDone && firstIndex === 0;
      this.endNext = page.next;
      this.endDone = page.done;
      const at = this.rows.findIndex((row) => this.source.keyOf(row) >= key);
      this.cursor = at === -1 ? Math.max(0, this.rows.length - 1) : at;
      this.top = Math.max(0, this.cursor - offset);
    });
  }

  private async readBackward(): Promise<number> {
    const page = await this.source.backward(this.startNext, this.chunk, this.scan);
    this.lastRead = 'backward';
    this.rows = [...page.rows, ...this.rows];
    this.cursor += page.rows.length;
    this.top += page.rows.length;
    this.startNext = page.next;
    this.startDone = page.done;
    return page.rows.length;
  }

  private async readForward(): Promise<number> {
    const page = await this.source.forward(this.endNext, this.chunk, this.scan);
    this.lastRead = 'forward';
    this.rows = this.rows.concat(page.rows);
    this.endNext = page.next;
    this.endDone = page.done;
    return page.rows.length;
  }

  /** After opening at the start: read on while the window is shorter than the screen. */
  private async fillForward(): Promise<void> {
    for (
      let reads = 0;
      this.rows.length < this.height && !this.endDone && reads < this.maxEmptyReads && this.canScan();
      reads++
    ) {
      await this.readForward();
    }
  }

  private async fillBackward(): Promise<void> {
    for (
      let reads = 0;
      this.rows.length < this.height && !this.startDone && reads < this.maxEmptyReads && this.canScan();
      reads++
    ) {
      await this.readBackward();
    }
    this.cursor = Math.max(0, this.rows.length - 1);
  }

  /** Drops rows far from the cursor so the window never holds more than `maxRows`. */
  private trim(): void {
    const excess = this.rows.length - this.maxRows;
    if (excess <= 0) return;
    if (this.cursor >= this.rows.length / 2) {
      this.rows = this.rows.slice(excess);
      this.cursor -= excess;
      this.top -= excess;
      this.startNext = this.source.keyOf(this.rows[0] as T);
      this.startDone = false;
    } else {
      this.rows = this.rows.slice(0, this.maxRows);
      this.endNext = this.source.keyOf(this.rows[this.rows.length - 1] as T);
      this.endDone = false;
    }
  }

  private publish(): void {
    // Keep the cursor on screen.
    const maxTop = Math.max(0, this.rows.length - this.height);
    if (this.cursor < this.top) this.top = this.cursor;
    if (this.cursor >= this.top + this.height) this.top = this.cursor - this.height + 1;
    this.top = Math.max(0, Math.min(this.top, maxTop));
    this.snapshot = this.makeSnapshot();
    for (const listener of this.listeners) listener();
  }

  private makeSnapshot(): WindowState<T> {
    return {
      rows: this.rows,
      cursor: this.cursor,
      top: this.top,
      moreBefore: !this.startDone,
      moreAfter: !this.endDone,
      loading: this.loading,
      searching: this.searching,
      searched: this.searched,
      error: this.error,
    };
  }
}
