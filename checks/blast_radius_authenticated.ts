import { blastRadiusCheck } from './_blast_radius.ts';

export default blastRadiusCheck(
  'blast_radius_authenticated',
  'authenticated',
  'What any signed-in user can do',
  'Scores what any signed-in user (a hostile one included) can read, write and call beyond their own rows, and names each path that grants it.',
  'medium',
);
