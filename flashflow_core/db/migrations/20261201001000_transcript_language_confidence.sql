-- What the transcriber found about a transcript, on its reference_assets row (asset_type
-- 'transcript'; NULL on other assets, on transcripts without speech and on transcripts a person
-- attached): the spoken language as an ISO 639-1 code, how sure the language detection was, and
-- how sure the recogniser was of the words (0-1, docs/hooks.md "Speech confidence"). A transcript
-- below FLASHFLOW_SPEECH_MIN_CONFIDENCE never becomes a spoken hook or CTA.
ALTER TABLE public.reference_assets
    ADD COLUMN IF NOT EXISTS language text
        CONSTRAINT reference_assets_language_check CHECK (language ~ '^[a-z]{2,3}$'),
    ADD COLUMN IF NOT EXISTS language_probability real
        CONSTRAINT reference_assets_language_probability_check CHECK (language_probability BETWEEN 0 AND 1),
    ADD COLUMN IF NOT EXISTS confidence real
        CONSTRAINT reference_assets_confidence_check CHECK (confidence BETWEEN 0 AND 1);
