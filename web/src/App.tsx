import { Route, Routes } from 'react-router';
import { Chooser } from './pages/Chooser';
import { OrganizationLayout } from './pages/OrganizationLayout';
import { SignIn } from './pages/SignIn';
import { Home } from './pages/Home';

/** The portals' routes: each organization's portal lives under its code. */
export function App() {
  return (
    <Routes>
      <Route path="/" element={<Chooser />} />
      <Route path="/o/:code" element={<OrganizationLayout />}>
        <Route index element={<Home />} />
        <Route path="sign-in" element={<SignIn />} />
      </Route>
      <Route path="*" element={<Chooser />} />
    </Routes>
  );
}
