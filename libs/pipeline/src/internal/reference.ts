import { Ids } from "@encompass/domain"
import { randomBytes } from "node:crypto"

/**
 * A fresh opaque reference. It is random, so it reveals nothing about the occurrence; it stays
 * stable across re-sends because the stored notification keeps the one it was created with
 * (a re-decided notification with the same key is not inserted again).
 */
export const randomReference = (): Ids.GatewayRef => {
  const hex = randomBytes(6).toString("hex").toUpperCase()
  return Ids.GatewayRef.make(`EG-${hex.slice(0, 4)}-${hex.slice(4, 8)}-${hex.slice(8, 12)}`)
}
