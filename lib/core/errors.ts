/**
 * One error family for the whole library. Every error has a stable `code` that scripts and the
 * JSON report can match on, and a message that says what failed, where, and what to do next.
 */
export class StatecraftError extends Error {
  readonly code: string
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = new.target.name
    this.code = code
  }
}

/** Bad input from a recipe, an option or the command line; raised before any host is touched. */
export class ValidationError extends StatecraftError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('E_VALIDATION', message, options)
  }
}

/**
 * A recipe's own mistake found while it builds its resources: it threw (a TypeError, a missing
 * value). The message names the recipe's file:line:column.
 */
export class RecipeError extends StatecraftError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('E_RECIPE', message, options)
  }
}

/** A hosts.yaml problem, with the file, line and column of the offending node. */
export class InventoryError extends StatecraftError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('E_INVENTORY', message, options)
  }
}

/** The host could not be reached or the session could not be set up. */
export class ConnectError extends StatecraftError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('E_CONNECT', message, options)
  }
}

/** A round trip to the host failed for reasons other than the command's own exit status. */
export class TransportError extends StatecraftError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('E_TRANSPORT', message, options)
  }
}

/** A command that a resource ran exited non-zero or timed out. */
export class CommandError extends StatecraftError {
  readonly exitCode: number | null
  readonly stderr: string
  constructor(message: string, exitCode: number | null, stderr: string, options?: { cause?: unknown }) {
    super('E_COMMAND', message, options)
    this.exitCode = exitCode
    this.stderr = stderr
  }
}

/** After apply, the re-read state still differs from the desired state. */
export class VerifyError extends StatecraftError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('E_VERIFY', message, options)
  }
}

/** sudo refused: no password configured, a wrong password, or no sudo rights. */
export class BecomeError extends StatecraftError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('E_BECOME', message, options)
  }
}

/** Another run holds the host's lock. */
export class LockError extends StatecraftError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('E_LOCKED', message, options)
  }
}

/**
 * The host must restart before the run can go on: Windows reports a pending reboot, or an
 * installer exited with 3010 / 1641. The run for that host ends here; the next run goes on.
 */
export class RebootRequiredError extends StatecraftError {
  constructor(message: string, options?: ErrorOptions) {
    super('E_REBOOT_REQUIRED', message, options)
  }
}

/** statecraft restarted a host (`--reboot`) and it did not answer again in time, or asked too often. */
export class RebootError extends StatecraftError {
  constructor(message: string, options?: ErrorOptions) {
    super('E_REBOOT', message, options)
  }
}

/** The run was interrupted (Ctrl-C or an AbortSignal). */
export class AbortedError extends StatecraftError {
  constructor(message = 'interrupted') {
    super('E_ABORTED', message)
  }
}

/**
 * Errors are recognised by their code, not their class: a recipe loaded from outside the package
 * can bring a second copy of the library, whose ValidationError is another class with the same code.
 */
export function toStatecraftError(err: unknown): StatecraftError {
  if (err instanceof StatecraftError) return err
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined
  if (err instanceof Error && typeof code === 'string' && /^E_[A-Z_]+$/.test(code)) return new StatecraftError(code, err.message, { cause: err })
  const message = err instanceof Error ? err.message : String(err)
  return new StatecraftError('E_INTERNAL', message, { cause: err })
}

/** Whether `e` is a statecraft error with this code, from this copy of the library or another. */
export function hasCode(e: unknown, code: string): boolean {
  return typeof e === 'object' && e !== null && (e as { code?: unknown }).code === code
}
