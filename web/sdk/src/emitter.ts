/** A tiny typed event emitter; a throwing listener does not stop the others. */
export class Emitter<M extends { [K in keyof M]: unknown }> {
  private listeners = new Map<keyof M, Set<(payload: never) => void>>();

  on<K extends keyof M>(name: K, listener: (payload: M[K]) => void): () => void {
    let set = this.listeners.get(name);
    if (!set) this.listeners.set(name, (set = new Set()));
    set.add(listener as (payload: never) => void);
    return () => {
      set!.delete(listener as (payload: never) => void);
    };
  }

  once<K extends keyof M>(name: K, listener: (payload: M[K]) => void): () => void {
    const off = this.on(name, (p) => {
      off();
      listener(p);
    });
    return off;
  }

  emit<K extends keyof M>(name: K, payload: M[K]): void {
    const set = this.listeners.get(name);
    if (!set) return;
    for (const l of [...set]) {
      try {
        (l as (payload: M[K]) => void)(payload);
      } catch (e) {
        // A listener's bug must not break delivery to the others or the connection.
        console.error('@parley/client: a listener of', String(name), 'threw', e);
      }
    }
  }
}
