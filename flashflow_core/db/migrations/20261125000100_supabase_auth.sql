-- Supabase compatibility on plain Postgres: the API roles, the `auth` schema with a minimal
-- `auth.users`, and `auth.uid()` / `auth.role()` / `auth.jwt()` as Supabase defines them.
-- On a real Supabase project all of these exist already, so every object is created only
-- where missing and nothing that Supabase owns is replaced.

-- Roles are cluster-wide: another database's migration may create them at the same moment,
-- in which case our CREATE ROLE fails with duplicate_object or unique_violation.
DO $roles$
DECLARE
    r record;
BEGIN
    FOR r IN
        SELECT * FROM (VALUES
            ('anon', 'NOLOGIN NOINHERIT'),
            ('authenticated', 'NOLOGIN NOINHERIT'),
            ('service_role', 'NOLOGIN NOINHERIT BYPASSRLS')
        ) AS wanted(name, options)
    LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = r.name) THEN
            BEGIN
                EXECUTE format('CREATE ROLE %I %s', r.name, r.options);
            EXCEPTION WHEN duplicate_object OR unique_violation THEN
                NULL;
            END;
        END IF;
    END LOOP;
END
$roles$;

DO $auth$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = 'auth') THEN
        CREATE SCHEMA auth;
        GRANT USAGE ON SCHEMA auth TO anon, authenticated, service_role;
    END IF;

    IF to_regclass('auth.users') IS NULL THEN
        CREATE TABLE auth.users (
            id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            instance_id        uuid,
            aud                varchar(255),
            role               varchar(255),
            email              varchar(255),
            encrypted_password varchar(255),
            email_confirmed_at timestamptz,
            last_sign_in_at    timestamptz,
            raw_app_meta_data  jsonb DEFAULT '{}'::jsonb,
            raw_user_meta_data jsonb DEFAULT '{}'::jsonb,
            is_super_admin     boolean,
            phone              text,
            is_anonymous       boolean NOT NULL DEFAULT false,
            created_at         timestamptz DEFAULT now(),
            updated_at         timestamptz DEFAULT now(),
            deleted_at         timestamptz
        );
        CREATE INDEX users_email_idx ON auth.users (email);
        GRANT ALL ON auth.users TO service_role;
    END IF;

    IF to_regprocedure('auth.uid()') IS NULL THEN
        CREATE FUNCTION auth.uid() RETURNS uuid
        LANGUAGE sql STABLE
        AS $fn$
            SELECT coalesce(
                nullif(current_setting('request.jwt.claim.sub', true), ''),
                (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')
            )::uuid
        $fn$;
    END IF;

    IF to_regprocedure('auth.role()') IS NULL THEN
        CREATE FUNCTION auth.role() RETURNS text
        LANGUAGE sql STABLE
        AS $fn$
            SELECT coalesce(
                nullif(current_setting('request.jwt.claim.role', true), ''),
                (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role')
            )::text
        $fn$;
    END IF;

    IF to_regprocedure('auth.jwt()') IS NULL THEN
        CREATE FUNCTION auth.jwt() RETURNS jsonb
        LANGUAGE sql STABLE
        AS $fn$
            SELECT coalesce(
                nullif(current_setting('request.jwt.claim', true), ''),
                nullif(current_setting('request.jwt.claims', true), '')
            )::jsonb
        $fn$;
    END IF;
END
$auth$;

-- Supabase's grants on the public schema; table privileges follow in the RLS migration,
-- where every table is granted only once its policies exist.
GRANT USAGE ON SCHEMA public TO anon, authenticated, service_role;
