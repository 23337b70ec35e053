import { blastRadiusCheck } from './_blast_radius.ts';

export default blastRadiusCheck(
  'blast_radius_custom_role',
  null,
  'What a custom role can do',
  'Scores what each custom login role, or role the authenticator can switch to, can read, write and call, and names each path that grants it.',
  'medium',
);
