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
  /** Forwards `from` to `to` in order; ends `to` after the last chunk, or destroys it if `from` broke. */
  const forward = (from: net.Socket, to: net.Socket) => {
    let free = 0
    const arrival = (bytes: number) => {
      free = Math.max(free, Date.now()) + (bytes * 1000) / options.bytesPerSecond
      return free + options.latencyMs - Date.now()
    }
    from.on("data", (chunk: Buffer) => {
      // Non-decreasing delays: timers fire in order, so the stream stays in order.
      setTimeout(() => to.destroyed || to.write(chunk), arrival(chunk.length))
    })
    from.once("close", (broken) => setTimeout(() => (broken ? to.destroy() : to.end()), arrival(0)))
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
