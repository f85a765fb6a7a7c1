// The load generator's own process (forked by the bench with an IPC channel): each message is a window
// to run, each reply its result or its failure. It ends when the bench disconnects.
import { type GenConfig, loop } from './loadgen.js'

process.on('message', (message: { id: number; config: GenConfig }) => {
  loop(message.config).then(
    (result) => process.send?.({ id: message.id, result }),
    (error: unknown) =>
      process.send?.({ id: message.id, error: error instanceof Error ? error.message : String(error) }),
  )
})
process.on('disconnect', () => process.removeAllListeners('message'))
