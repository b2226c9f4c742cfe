/** Passwords: 8 to 128 characters, any characters; hashed with argon2id. */
export const PASSWORD_MIN = 8;
export const PASSWORD_MAX = 128;

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  verify(password: string, hash: string): Promise<boolean>;
  /** Spends the time of one verify, so an unknown username answers no faster than a wrong password. */
  verifyNothing(password: string): Promise<void>;
}

/** argon2id through Bun.password. Defaults are Bun's (64 MiB, t=2); tests may pass cheaper costs. */
export function createPasswordHasher(cost: { memoryCost?: number; timeCost?: number } = {}): PasswordHasher {
  const options = { algorithm: "argon2id" as const, ...cost };
  let decoy: Promise<string> | undefined;
  return {
    hash: (password) => Bun.password.hash(password, options),
    verify: (password, hash) => Bun.password.verify(password, hash),
    async verifyNothing(password) {
      decoy ??= Bun.password.hash(crypto.randomUUID(), options);
      await Bun.password.verify(password, await decoy);
    },
  };
}
