-- An article whose reply promises a person's follow-up (a hacked account, "a
-- person will answer you") is never sent by the bot: support-answer offers
-- its reply as a draft and leaves `auto_reply` false.
ALTER TABLE kb_entries
    ADD COLUMN auto_reply boolean NOT NULL DEFAULT true;
