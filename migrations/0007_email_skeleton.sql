-- The UTS #39 confusable skeleton of each user's email, so that a lookalike of an
-- existing address (a Cyrillic `а` for a Latin `a`) is one account, not two. Existing
-- rows are filled in by the server at start-up (the skeleton is computed in Rust).
ALTER TABLE users ADD COLUMN email_skeleton TEXT;
CREATE UNIQUE INDEX users_email_skeleton_key ON users (email_skeleton);
