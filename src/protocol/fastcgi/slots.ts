// Per-request state of one connection, by request id. Without multiplexing (every real web server) there
// is at most one request, so it lives in a field: a Map set and deleted per request costs allocations.

export class Slots<T> {
  #id = -1
  #one: T | undefined
  #more: Map<number, T> | undefined

  get size(): number {
    return (this.#one === undefined ? 0 : 1) + (this.#more?.size ?? 0)
  }

  has(id: number): boolean {
    return this.get(id) !== undefined
  }

  get(id: number): T | undefined {
    return id === this.#id ? this.#one : this.#more?.get(id)
  }

  set(id: number, value: T): void {
    if (this.#one === undefined || id === this.#id) {
      this.#id = id
      this.#one = value
    } else {
      this.#more ??= new Map()
      this.#more.set(id, value)
    }
  }

  delete(id: number): void {
    if (id === this.#id) {
      this.#id = -1
      this.#one = undefined
    } else {
      this.#more?.delete(id)
    }
  }

  *values(): IterableIterator<T> {
    if (this.#one !== undefined) yield this.#one
    if (this.#more !== undefined) yield* [...this.#more.values()]
  }

  clear(): void {
    this.#id = -1
    this.#one = undefined
    this.#more = undefined
  }
}
