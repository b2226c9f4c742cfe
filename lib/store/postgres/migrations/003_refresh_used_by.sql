-- Who first spent a refresh token: a reuse by the same client within seconds is a race, not a theft.
ALTER TABLE refresh_tokens ADD COLUMN used_by text;
