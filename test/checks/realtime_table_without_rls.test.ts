import check from '../../checks/realtime_table_without_rls.ts';
import { describeAdvisorCheck } from '../support/advisor.ts';

describeAdvisorCheck(check);
