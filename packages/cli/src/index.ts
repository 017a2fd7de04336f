/**
 * @llm-fiber/cli — the `llm-fiber` command line (`ask`, `stream`, `chat`, `models`, `costs`).
 *
 * @since 0.1.0
 */

/** @since 0.1.0 */
export * as Cli from "./Cli.js"
