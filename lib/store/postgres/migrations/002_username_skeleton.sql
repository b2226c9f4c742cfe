-- What a username looks like (lib/store/username.ts usernameSkeleton): unique, so no look-alike of an
-- existing name can be created, even by two sign-ups at once. Existing rows get theirs from the
-- application on start (NULLs do not collide).
ALTER TABLE users ADD COLUMN username_skeleton text;
CREATE UNIQUE INDEX users_username_skeleton ON users (username_skeleton);
