/**
 * A slow network link for tests: a TCP proxy on loopback passing bytes both ways to a real peer at
 * a set rate, each chunk held back by a fixed latency — so an SFTP upload through it stays in
 * flight long enough for a test to kill the gateway mid-upload. Only the wire is slow; the bytes
 * and the peer are real. When one side goes away (a killed process), the other is closed once the
 * bytes already on the wire have arrived, as a real link would.
 */
import * as net from "node:net"

export interface SlowLink {
  readonly port: number
  readonly close: () => Promise<void>
}

export interface Options {
  /** The peer's port on 127.0.0.1. */
  readonly to: number
  readonly latencyMs: number
  readonly bytesPerSecond: number
}

export const start = (options: Options): Promise<SlowLink> => {
  const sockets = new Set<net.Socket>()
  /**
   * Forwards `from` to `to` in order, each chunk once the link has carried it; ends `to` after the
   * last chunk, or destroys it if `from` broke. One queue and one timer per direction: timers set
   * one per chunk could fire out of order.
   */
  const forward = (from: net.Socket, to: net.Socket) => {
    const queue: Array<{ readonly due: number; readonly send: () => void }> = []
    let free = 0
    let timer: ReturnType<typeof setTimeout> | undefined
    const pump = () => {
      timer = undefined
      while (queue.length > 0 && (queue[0]?.due ?? 0) <= Date.now()) queue.shift()?.send()
      if (queue.length > 0) timer = setTimeout(pump, Math.max(1, (queue[0]?.due ?? 0) - Date.now()))
    }
    const carry = (bytes: number, send: () => void) => {
      free = Math.max(free, Date.now()) + (bytes * 1000) / options.bytesPerSecond
      queue.push({ due: free + options.latencyMs, send })
      if (timer === undefined) timer = setTimeout(pump, Math.max(1, free + options.latencyMs - Date.now()))
    }
    from.on("data", (chunk: Buffer) => carry(chunk.length, () => to.destroyed || to.write(chunk)))
    from.once("close", (broken) => carry(0, () => (broken ? to.destroy() : to.end())))
  }
  const server = net.createServer((client) => {
    const peer = net.connect({ host: "127.0.0.1", port: options.to })
    for (const socket of [client, peer]) {
      sockets.add(socket)
      socket.on("error", () => socket.destroy())
      socket.once("close", () => sockets.delete(socket))
    }
    forward(client, peer)
    forward(peer, client)
  })
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () =>
      resolve({
        port: (server.address() as net.AddressInfo).port,
        close: () =>
          new Promise((done) => {
            for (const socket of sockets) socket.destroy()
            server.close(() => done())
          })
      }))
  })
}
