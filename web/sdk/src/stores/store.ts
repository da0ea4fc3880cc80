/**
 * A minimal observable state holder. `subscribe` and `getSnapshot` fit React's
 * `useSyncExternalStore` as they are; each change replaces the snapshot object.
 */
export class Store<S> {
  private listeners = new Set<() => void>();

  constructor(protected state: S) {}

  readonly getSnapshot = (): S => this.state;

  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  };

  protected setState(patch: Partial<S>): void {
    this.state = { ...this.state, ...patch };
    for (const l of [...this.listeners]) l();
  }
}
