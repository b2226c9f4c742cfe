/** A password the sign-up policy accepts (not common, not a repetition or run), for test users. */
export const TEST_PASSWORD = "quiet walrus drinks 4 teas";
