/** Values the harness means to send, by the field names a contract is likely to use. */
export interface BodyHints {
  email?: string
  password?: string
  role?: string
  accountRole?: string
  platformRole?: string
  environment?: string
  /** Put into every free-text string field, so any echo of it is recognisable. */
  canary?: string
  /** A readable prefix for names and titles. */
  label?: string
}

const HINTS: [RegExp, keyof BodyHints][] = [
  [/^e-?mail$|^username$/i, 'email'],
  [/^password$/i, 'password'],
  // The account-level role under the names deployments give the account (tenantRole, orgRole, …).
  [/^(account|tenant|org|organi[sz]ation|company|customer)_?role$/i, 'accountRole'],
  [/^(platform|op|operator|staff|principal)_?role$/i, 'platformRole'],
  [/^(workspace_?|space_?|project_?|member_?)?role$/i, 'role'],
  [/^(environment|env|stage|tier)$/i, 'environment'],
]

/** The hint a field means by its name, if its name means one. */
export function hintKeyFor(name: string): keyof BodyHints | undefined {
  return HINTS.find(([re]) => re.test(name))?.[1]
}
