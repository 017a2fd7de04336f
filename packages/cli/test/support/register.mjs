/**
 * `node --import tsx --import <this file>`: resolve `@llm-fiber/*` to the sources (see
 * source-hooks.mjs).
 */
import { register } from "node:module"

register("./source-hooks.mjs", import.meta.url)
