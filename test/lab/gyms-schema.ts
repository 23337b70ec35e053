/** Gyms, their members (an active state the helpers count, a pending one requests start with), invoices and a scoped offers table: shared by the lab's world and call tests. */
export const GYMS = `
create table public.profiles (id uuid primary key references auth.users on delete cascade,
  username text not null unique check (char_length(username) between 3 and 24));
create table public.gyms (id uuid primary key default gen_random_uuid(), name text not null, owner_user_id uuid not null references public.profiles);
create type public.member_status as enum ('pending', 'active', 'cancelled');
create table public.gym_members (id uuid primary key default gen_random_uuid(), gym_id uuid not null references public.gyms on delete cascade,
  user_id uuid not null references public.profiles, role text not null default 'member' check (role in ('leader', 'member')),
  status public.member_status not null default 'pending', coach_user_id uuid references public.profiles, unique (gym_id, user_id),
  is_super_admin boolean not null default false);
-- A member may not coach itself (a rule on an optional value).
create function public.no_self_coach() returns trigger language plpgsql as $$
begin
  if new.coach_user_id = new.user_id then raise exception 'a member cannot coach itself'; end if;
  return new;
end $$;
create trigger gym_members_no_self_coach before insert or update on public.gym_members for each row execute function public.no_self_coach();
create function public.is_gym_member(g uuid) returns boolean language sql stable security definer set search_path = '' as $$
  select exists (select 1 from public.gym_members m where m.gym_id = g and m.user_id = auth.uid() and m.status = 'active') $$;
create table public.invoices (id uuid primary key default gen_random_uuid(), gym_id uuid not null references public.gyms on delete cascade,
  amount_cents integer not null check (amount_cents >= 0));
-- Offers at most one of two scopes: a whole-platform offer has no gym, a gym's offer has one.
create table public.offers (id uuid primary key default gen_random_uuid(), scope text not null, gym_id uuid references public.gyms,
  check ((scope = 'platform' and gym_id is null) or (scope = 'gym' and gym_id is not null)));
alter table public.profiles enable row level security;
alter table public.gyms enable row level security;
alter table public.gym_members enable row level security;
alter table public.invoices enable row level security;
alter table public.offers enable row level security;
create policy "own profile" on public.profiles for all to authenticated using (id = auth.uid()) with check (id = auth.uid());
create policy "members read their gym" on public.gyms for select to authenticated using (public.is_gym_member(id) or owner_user_id = auth.uid());
create policy "members read members" on public.gym_members for select to authenticated using (user_id = auth.uid() or public.is_gym_member(gym_id));
create policy "members read invoices" on public.invoices for select to authenticated using (public.is_gym_member(gym_id));
-- The platform's staff: a flag on a membership, a privilege and not a state the world's members are in.
create policy "super admins read invoices" on public.invoices for select to authenticated
  using (exists (select 1 from public.gym_members m where m.user_id = auth.uid() and m.is_super_admin = true));
create policy "members read offers" on public.offers for select to authenticated using (gym_id is null or public.is_gym_member(gym_id));
-- A request to join any gym: pending until staff approve it.
create function public.request_membership(p_gym_id uuid) returns void language sql security definer set search_path = '' as $$
  insert into public.gym_members (gym_id, user_id, role, status) values (p_gym_id, auth.uid(), 'member', 'pending') $$;
`;
