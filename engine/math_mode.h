#pragma once
// Process-wide math modes that trade f32 accuracy for speed.
namespace dml {

// TF32 tensor-core math for f32 matrix products and convolutions on CUDA
// devices (cuBLAS and cuDNN round f32 operands to a 10-bit significand and
// accumulate in f32; several times faster on Ampere and later, about 1e-3
// relative error). Off by default, so f32 results match the CPU's to f32
// rounding. The CPU backend has no TF32 and ignores the switch.
void set_allow_tf32(bool on);
bool allow_tf32();

// Sets the TF32 switch for a scope and puts the previous value back at its end.
class AllowTf32Scope {
 public:
  explicit AllowTf32Scope(bool on) : previous_(allow_tf32()) { set_allow_tf32(on); }
  ~AllowTf32Scope() { set_allow_tf32(previous_); }
  AllowTf32Scope(const AllowTf32Scope&) = delete;
  AllowTf32Scope& operator=(const AllowTf32Scope&) = delete;

 private:
  bool previous_;
};

}  // namespace dml
