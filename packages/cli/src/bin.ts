#!/usr/bin/env node
/**
 * The `llm-fiber` executable: runs `Cli.run` on the process arguments with Node's
 * platform services, and exits with its exit code.
 *
 * @since 0.1.0
 */
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Cli from "./Cli.js"

// `llm-fiber stream … | head -1`: a closed stdout is not an error worth a stack trace
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code === "EPIPE") process.exit(Cli.ExitCode.success)
  throw error
})

Cli.run(process.argv.slice(2)).pipe(
  Effect.provide(NodeContext.layer),
  NodeRuntime.runMain({
    disableErrorReporting: true,
    disablePrettyLogger: true,
    teardown: (exit, onExit) =>
      onExit(
        Exit.isSuccess(exit)
          ? typeof exit.value === "number" ? exit.value : Cli.ExitCode.success
          : Cause.isInterruptedOnly(exit.cause)
          ? Cli.ExitCode.interrupted
          : Cli.ExitCode.failure
      )
  })
)
